#!/bin/bash
# GCC moves unlikely paths to foo.cold: a change only there changes foo (the name reported);
# the cold part travels with it.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <linux/printk.h>
int guarded(int v)
{
	if (unlikely(v < 0)) {
		pr_err("guarded: bad value %d\n", v);
		return MSG;
	}
	return v * 2;
}
MODULE_LICENSE("GPL");
'
b=${body//MSG/-EINVAL}; echo "$b" > "$T/orig.c"
b=${body//MSG/-ERANGE}; echo "$b" > "$T/patched.c"
build_kmod
readelf -sW "$T/orig.o" | grep -q ' guarded.cold$' || fail "gcc made no guarded.cold: scenario needs a new trigger"
run_diff
expect_exit 0
expect_json '.changed' '["guarded"]'
expect_symbol guarded.cold '[0-9]+'
expect_linkable
pass
