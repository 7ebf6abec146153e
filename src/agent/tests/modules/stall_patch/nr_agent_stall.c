// SPDX-License-Identifier: GPL-2.0
/*
 * nr_agent_stall: a livepatch of nr_stall_target's nr_stall_sleep(). Its transition cannot
 * finish while nr_stall_thread sleeps inside the original (see nr_stall_target.c).
 */
#include <linux/kthread.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int nr_stall_sleep_patched(void)
{
	return 0;
}

static struct klp_func nr_stall_funcs[] = {
	{ .old_name = "nr_stall_sleep", .new_func = nr_stall_sleep_patched },
	{}
};

static struct klp_object nr_stall_objs[] = {
	{ .name = "nr_stall_target", .funcs = nr_stall_funcs },
	{}
};

static struct klp_patch nr_stall_patch = {
	.mod = THIS_MODULE,
	.objs = nr_stall_objs,
	.replace = true,
};

static int __init nr_agent_stall_init(void)
{
	return klp_enable_patch(&nr_stall_patch);
}

static void __exit nr_agent_stall_exit(void)
{
}

module_init(nr_agent_stall_init);
module_exit(nr_agent_stall_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
