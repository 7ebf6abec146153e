// SPDX-License-Identifier: GPL-2.0
/*
 * nr_stall_target: a module whose kernel thread never leaves nr_stall_sleep(). A livepatch
 * that replaces nr_stall_sleep() can therefore never switch that thread: the function is on
 * its stack for as long as the module is loaded, so the transition stalls. The thread sleeps
 * uninterruptibly (msleep), so the livepatch core's fake signal does not move it either; the
 * agent must reverse the transition and report this thread and its stack.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>

static struct task_struct *nr_stall_thread;

noinline int nr_stall_sleep(void)
{
	while (!kthread_should_stop())
		msleep(1000);
	return 0;
}
EXPORT_SYMBOL_GPL(nr_stall_sleep);

static int nr_stall_fn(void *unused)
{
	return nr_stall_sleep();
}

static int __init nr_stall_init(void)
{
	nr_stall_thread = kthread_run(nr_stall_fn, NULL, "nr_stall_thread");
	return PTR_ERR_OR_ZERO(nr_stall_thread);
}

static void __exit nr_stall_exit(void)
{
	kthread_stop(nr_stall_thread);
}

module_init(nr_stall_init);
module_exit(nr_stall_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("noreboot agent vm test: a thread that sleeps inside nr_stall_sleep forever");
