#!/bin/bash
# A fix that only moves lines (WARN_ON, WARN, pr_debug below it shift) changes no function: on
# this kernel the __LINE__ lives in __bug_table entries and dynamic-debug descriptors, not in
# the code. Exit 4. The scenario checks that the line data really moved.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/printk.h>
PAD
int check_value(int v)
{
	WARN_ON(v > 10);
	WARN(v < -10, "too small: %d\n", v);
	pr_debug("checked %d\n", v);
	WARN_ON_ONCE(v == 5);
	return v * 2;
}
MODULE_LICENSE("GPL");
'
echo "${body//PAD/}" > "$T/orig.c"
echo "${body//PAD/$'\n\n\n/* three lines added above */'}" > "$T/patched.c"
build_kmod
cmp -s <(objcopy -O binary --only-section=__bug_table "$T/orig.o" /dev/stdout) \
       <(objcopy -O binary --only-section=__bug_table "$T/patched.o" /dev/stdout) &&
  fail "__bug_table did not change: the scenario does not move lines"
run_diff
expect_exit 4
expect_json '.changed' '[]'
pass
