#!/bin/bash
# Functions that share one section (the kernel's __sched functions in .sched.text, or a file
# built without -ffunction-sections) are compared one by one; the changed one is cut out into
# its own .text.<name> section with its relocations rebased.
. "$(dirname "$0")/common.sh"
body='
extern void schedule_hook(int);
#define __sched __attribute__((section(".sched.text"), noinline))
int __sched wait_a(int x) { schedule_hook(x); return x + 1; }
int __sched wait_b(int x) { schedule_hook(x * 2); return x + A; }
int __sched wait_c(int x) { schedule_hook(x * 3); return wait_a(x) + 3; }
'
b=${body//A/2}; echo "$b" > "$T/orig.c"
b=${body//A/5}; echo "$b" > "$T/patched.c"
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["wait_b"]'
expect_section .text.wait_b
expect_no_section .sched.text
[ "$(section_size "$T/out.o" .text.wait_b)" = "$(readelf -sW "$T/patched.o" | awk '$8 == "wait_b" {print $3}')" ] ||
  fail "the cut-out section does not have wait_b's size"
readelf -rW "$T/out.o" | grep -A4 "rela.text.wait_b" | grep -q "schedule_hook" || fail "wait_b's call lost"
readelf -rW "$T/out.o" | grep -A4 "rela.text.wait_b" | grep -qE "__fentry__ - 4" || fail "fentry relocation not rebased"
expect_linkable
pass
