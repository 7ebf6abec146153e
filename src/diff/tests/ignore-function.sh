#!/bin/bash
# KPATCH_IGNORE_FUNCTION(fn): a function that changed only as a side effect of the fix (here
# the __LINE__ a lower line moved) is not patched; the real change is. Without the marker,
# `report` is reported changed too.
. "$(dirname "$0")/common.sh"
use_kpatch_macros
cat > "$T/orig.c" <<'C'
#include "kpatch-macros.h"
int report(int x) { return x > 100 ? __LINE__ : x; }
int fixed(int x) { return x + 1; }
C
cat > "$T/patched.c" <<'C'
#include "kpatch-macros.h"

int report(int x) { return x > 100 ? __LINE__ : x; }
int fixed(int x) { return x + 2; }
KPATCH_IGNORE_FUNCTION(report);
C
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["fixed"]'
expect_json '.ignored' '["function report"]'
expect_no_section .text.report
expect_no_section .noreboot.ignore.functions
expect_linkable

# The marker must name a function of this file: an extern is refused, naming it.
cat > "$T/patched.c" <<'C'
#include "kpatch-macros.h"
int elsewhere(int x);
int report(int x) { return x > 100 ? __LINE__ : x; }
int fixed(int x) { return x + 2 + elsewhere(x); }
KPATCH_IGNORE_FUNCTION(elsewhere);
C
build_plain
run_diff
expect_exit 3
expect_refused elsewhere "KPATCH_IGNORE_FUNCTION names something that is not a function defined in this file"
pass
