#!/bin/bash
# A fix that changes which arguments GCC keeps for a clone: ORIG's check_len.isra.0 takes r->len
# by value, PATCHED's (same name) takes r->len and r->flags. Replacing it in place would let the
# running callers pass one argument to code that reads two. The clone travels as a new function
# (not a replaced one) and both callers are patched to call it.
. "$(dirname "$0")/common.sh"
write_clone_orig
sed 's/if (r->len <= 0) {/if (r->flags <= 0) {/' "$T/orig.c" > "$T/patched.c"
build_plain
expect_isra_clone orig patched
# The shape under test: the callers set up two argument registers in PATCHED, one in ORIG.
objdump -d "$T/orig.o" | grep -A6 '<submit>:' | grep -q 'mov.*0x4(%rdi)' && fail "ORIG's submit already loads r->flags"
objdump -d "$T/patched.o" | grep -A6 '<submit>:' | grep -q 'mov.*0x4(%rdi)' || fail "PATCHED's submit does not load r->flags"
run_diff
expect_exit 0
expect_json '.changed' '["resubmit","submit"]'
expect_json '.new' '["check_len.isra.0"]'
expect_json '[.functions[] | select(.name == "check_len.isra.0") | .status]' '["new"]'
expect_json '.clones' '[{"callers":["resubmit","submit"],"name":"check_len.isra.0","patched_name":"check_len.isra.0"}]'
# The new clone is defined in the output and the callers call it there, not the kernel's copy.
expect_symbol check_len.isra.0 '[0-9]+'
objdump -dr "$T/out.o" | grep -A8 '<submit>:' | grep -q 'R_X86_64_PC32.*check_len.isra.0' ||
  objdump -dr "$T/out.o" | grep -A8 '<submit>:' | grep -q 'R_X86_64_PC32.*\.text\.check_len' ||
  fail "submit does not call the new clone: $(objdump -dr "$T/out.o" | grep -A8 '<submit>:')"
expect_linkable
pass
