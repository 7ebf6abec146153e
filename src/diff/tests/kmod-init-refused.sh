#!/bin/bash
# A changed __init function is refused with the reason and what to do.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <linux/init.h>
static int level;
static int __init thing_init(void)
{
	level = VALUE;
	return 0;
}
module_init(thing_init);
int get_level(void) { return level; }
MODULE_LICENSE("GPL");
'
b=${body//VALUE/1}; echo "$b" > "$T/orig.c"
b=${body//VALUE/2}; echo "$b" > "$T/patched.c"
build_kmod
run_diff
expect_exit 3
expect_refused thing_init "changed __init function"
grep -q "what to do" "$T/err" || fail "no hint on stderr"
pass
