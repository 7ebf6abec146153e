#!/bin/bash
# A changed notrace function (no call __fentry__) is refused; a traceable one next to it is fine.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
notrace int untraced(int v) { return v + A; }
int traced(int v) { return v + B; }
MODULE_LICENSE("GPL");
'
b=${body//A/1}; b=${b//B/1}; echo "$b" > "$T/orig.c"
b=${body//A/2}; b=${b//B/2}; echo "$b" > "$T/patched.c"
build_kmod
run_diff
expect_exit 3
expect_refused untraced "cannot be traced"
jq -e '.refused | map(.symbol) | index("traced") == null' "$T/out.json" >/dev/null || fail "traced was refused"
expect_json '.changed' '["traced","untraced"]'
pass
