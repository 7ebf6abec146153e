#!/bin/bash
# Kernel special sections are split per function: of two functions that both use WARN_ON,
# static_branch, unsafe_get_user (exception table, STAC/CLAC alternatives) and an atomic (LOCK
# prefix), only the changed one's entries are kept, with their relocations, ORC data in step.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/jump_label.h>
#include <linux/atomic.h>
static DEFINE_STATIC_KEY_FALSE(demo_key);
static atomic_t hits;
int first_reader(int __user *p, int v)
{
	int x = 0;
	WARN_ON(v > 10);
	if (static_branch_unlikely(&demo_key))
		atomic_inc(&hits);
	if (!user_access_begin(p, sizeof(*p)))
		return -EFAULT;
	unsafe_get_user(x, p, efault);
	user_access_end();
	return x + v CHANGE;
efault:
	user_access_end();
	return -EFAULT;
}
int second_reader(int __user *p, int v)
{
	int x = 0;
	WARN_ON(v > 20);
	if (static_branch_unlikely(&demo_key))
		atomic_inc(&hits);
	if (!user_access_begin(p, sizeof(*p)))
		return -EFAULT;
	unsafe_get_user(x, p, efault);
	user_access_end();
	return x - v;
efault:
	user_access_end();
	return -EFAULT;
}
MODULE_LICENSE("GPL");
'
echo "${body//CHANGE/}" > "$T/orig.c"
echo "${body//CHANGE/+ 1}" > "$T/patched.c"
build_kmod
run_diff
expect_exit 0
expect_json '.changed' '["first_reader"]'
expect_no_section .text.second_reader
for s in __bug_table __jump_table __ex_table .altinstructions .altinstr_replacement .orc_unwind_ip .orc_unwind \
         __mcount_loc .return_sites .smp_locks; do
  p=$(section_size "$T/patched.o" "$s")
  o=$(section_size "$T/out.o" "$s")
  [ -n "$p" ] || fail "the kernel build produced no $s (the scenario no longer covers it)"
  [ -n "$o" ] && [ "$o" -gt 0 ] || fail "output has no $s"
  [ "$s" = .altinstr_replacement ] && continue
  [ "$o" -lt "$p" ] || fail "$s: output keeps $o of $p bytes, expected only first_reader's entries"
done
# Exactly one bug entry (12 bytes) and one jump entry (16 bytes) per function.
[ "$(section_size "$T/out.o" __bug_table)" = 12 ] || fail "__bug_table should keep 1 entry"
[ "$(section_size "$T/out.o" __jump_table)" = 16 ] || fail "__jump_table should keep 1 entry"
# ORC: one 6-byte orc_entry per 4-byte ip entry.
ip=$(section_size "$T/out.o" .orc_unwind_ip); orc=$(section_size "$T/out.o" .orc_unwind)
[ $((ip / 4 * 6)) = "$orc" ] || fail ".orc_unwind ($orc) not parallel to .orc_unwind_ip ($ip)"
# Every kept entry points at the kept function, never at second_reader.
! readelf -rW "$T/out.o" | grep -q second_reader || fail "an entry still refers to second_reader"
readelf -rW "$T/out.o" | grep -A5 "rela__jump_table" | grep -q "demo_key" || fail "jump entry lost its key"
expect_json '[.references[] | select(.name == "demo_key" or .name == "hits") | .bind] | unique' '["local"]'
expect_linkable
pass
