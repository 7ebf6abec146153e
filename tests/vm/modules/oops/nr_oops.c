// SPDX-License-Identifier: GPL-2.0
/*
 * nr_oops: faults on purpose when loaded, so the vm tier can check that vm-run notices a
 * kernel Oops in the guest and fails the run even though the command itself carries on. It
 * logs a kernel WARNING first, which vm-run must report without failing on it alone.
 * The fault is a write through a NULL pointer the compiler cannot see through; the kernel
 * kills the insmod process (the module stays half-loaded, which is fine in a throw-away VM).
 */
#include <linux/init.h>
#include <linux/bug.h>
#include <linux/module.h>

static int *volatile nr_null;

static int __init nr_oops_init(void)
{
	WARN(1, "nr_oops: a warning before the fault\n");
	*nr_null = 1;
	return 0;
}

module_init(nr_oops_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("noreboot vm tier: oops on load");
