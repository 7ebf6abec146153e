/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent vm test's livepatch: replaces cmdline_proc_show() (fs/proc/cmdline.c) so that
 * /proc/cmdline reads NR_FIX_MARKER. Included by nr_agent_fix1.c and nr_agent_fix2.c, which
 * set the marker; both are cumulative (replace = true), as every noreboot patch is, so
 * loading fix2 over fix1 makes the kernel drop fix1 once fix2's transition is complete.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int nr_fix_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", NR_FIX_MARKER);
	return 0;
}

static struct klp_func nr_fix_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = nr_fix_cmdline_proc_show },
	{}
};

static struct klp_object nr_fix_objs[] = {
	{ .name = NULL /* vmlinux */, .funcs = nr_fix_funcs },
	{}
};

static struct klp_patch nr_fix_patch = {
	.mod = THIS_MODULE,
	.objs = nr_fix_objs,
	.replace = true,
};

static int __init nr_fix_init(void)
{
	return klp_enable_patch(&nr_fix_patch);
}

static void __exit nr_fix_exit(void)
{
}

module_init(nr_fix_init);
module_exit(nr_fix_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
