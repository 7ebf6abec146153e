#!/bin/bash
# WARN_ONCE's __already_done and __func__ are per-site: the patch carries fresh copies
# (defined in the output), while an ordinary static local stays the kernel's (a reference).
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <linux/bug.h>
int count_calls(int v)
{
	static int calls;
	calls++;
	WARN_ONCE(v < 0, "negative in %s: %d\n", __func__, v);
	return calls + v CHANGE;
}
MODULE_LICENSE("GPL");
'
echo "${body//CHANGE/}" > "$T/orig.c"
echo "${body//CHANGE/+ 1}" > "$T/patched.c"
build_kmod
run_diff
expect_exit 0
expect_json '.changed' '["count_calls"]'
done_sym=$(readelf -sW "$T/out.o" | awk '$8 ~ /^__already_done/ {print $7}')
[ -n "$done_sym" ] && [ "$done_sym" != UND ] || fail "__already_done is not a fresh copy in the output"
func_sym=$(readelf -sW "$T/out.o" | awk '$8 ~ /^__func__/ {print $7}')
[ -n "$func_sym" ] && [ "$func_sym" != UND ] || fail "__func__ is not a fresh copy in the output"
calls=$(readelf -sW "$T/orig.o" | awk '$8 ~ /^calls/ {print $8}')
expect_symbol "$calls" UND
pass
