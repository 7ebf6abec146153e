// SPDX-License-Identifier: GPL-2.0
/*
 * nr_lp_sample: the smallest livepatch the vm tier loads into Debian's kernel.
 *
 * It replaces cmdline_proc_show() (fs/proc/cmdline.c, a static function of vmlinux) so that
 * reading /proc/cmdline shows only "<marker>". The marker is a module parameter, so a test
 * can load it with a value it just generated and know that what it reads came from this
 * load, not from a stale state. (The real command line, saved_command_line, is not exported
 * to modules: a hand-written livepatch can only use exported symbols; reaching the others
 * is what the klp relocations of generated patches are for.)
 *
 * Everything the kernel needs is declared here: one klp_func in vmlinux (klp_object with a
 * NULL name), a klp_patch, and klp_enable_patch() from the init function, which registers
 * the patch and starts the transition (/sys/kernel/livepatch/nr_lp_sample/transition is 1
 * until every task runs the new code). Disabling the patch (echo 0 > .../enabled) reverses
 * it; the module can be removed once the reverse transition has finished.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static char *marker = "NOREBOOT-LP-SAMPLE";
module_param(marker, charp, 0444);
MODULE_PARM_DESC(marker, "text /proc/cmdline shows while the patch is enabled");

/* Same prototype as the original: static int cmdline_proc_show(struct seq_file *, void *). */
static int nr_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", marker);
	return 0;
}

static struct klp_func nr_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = nr_cmdline_proc_show },
	{}
};

static struct klp_object nr_objs[] = {
	{ .name = NULL /* vmlinux */, .funcs = nr_funcs },
	{}
};

static struct klp_patch nr_patch = {
	.mod = THIS_MODULE,
	.objs = nr_objs,
};

static int __init nr_lp_init(void)
{
	pr_info("enabling, marker '%s'\n", marker);
	return klp_enable_patch(&nr_patch);
}

static void __exit nr_lp_exit(void)
{
}

module_init(nr_lp_init);
module_exit(nr_lp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("noreboot vm tier: livepatch of /proc/cmdline");
MODULE_INFO(livepatch, "Y");
