#!/bin/bash
# A change only in an alternative (the CPU feature that selects the replacement) leaves the
# function's code bytes identical; it must still count as changed (special-section entries are
# part of the fingerprint). The untouched neighbour stays unchanged.
. "$(dirname "$0")/common.sh"
body='
#include <linux/module.h>
#include <asm/alternative.h>
#include <asm/cpufeatures.h>
int fenced(int v)
{
	alternative("", "lfence", @FEAT@);
	return v + 1;
}
int neighbour(int v)
{
	alternative("", "mfence", X86_FEATURE_XMM2);
	return v + 2;
}
MODULE_LICENSE("GPL");
'
b=${body//@FEAT@/X86_FEATURE_LFENCE_RDTSC}; echo "$b" > "$T/orig.c"
b=${body//@FEAT@/X86_FEATURE_XMM2}; echo "$b" > "$T/patched.c"
build_kmod
cmp -s <(objcopy -O binary --only-section=.text.fenced "$T/orig.o" /dev/stdout) \
       <(objcopy -O binary --only-section=.text.fenced "$T/patched.o" /dev/stdout) ||
  fail "the code of fenced differs: the scenario no longer isolates the alternative"
run_diff
expect_exit 0
expect_json '.changed' '["fenced"]'
[ "$(section_size "$T/out.o" .altinstructions)" = 12 ] || fail ".altinstructions should keep fenced's one entry"
pass
