#!/bin/bash
# KPATCH_IGNORE_STATIC("name"): the static variable `name` (whatever number the compiler
# appends) is treated as unchanged, so its changed initializer is not refused: the running
# kernel's copy keeps its value. Without the marker it is refused (changed existing data).
. "$(dirname "$0")/common.sh"
use_kpatch_macros
cat > "$T/orig.c" <<'C'
#include "kpatch-macros.h"
int take(int x) { static int budget = 5; budget -= x; return budget; }
C
cat > "$T/patched.c" <<'C'
#include "kpatch-macros.h"
int take(int x) { static int budget = 6; budget -= x + 1; return budget; }
KPATCH_IGNORE_STATIC("budget");
C
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["take"]'
expect_json '.refused' '[]'
expect_json '.ignored' '["static budget"]'
expect_linkable
pass
