#!/bin/bash
# KPATCH_IGNORE_SECTION("name"): changes in that section are side effects, not patched and not
# refused. Without the marker the changed table is refused (changed existing data). A name the
# patched object has no section for is refused, naming it.
. "$(dirname "$0")/common.sh"
use_kpatch_macros
cat > "$T/orig.c" <<'C'
#include "kpatch-macros.h"
int sidecar[2] __attribute__((section(".data.sidecar"))) = {1, 2};
int fixed(int x) { return x + 1; }
C
cat > "$T/patched.c" <<'C'
#include "kpatch-macros.h"
int sidecar[2] __attribute__((section(".data.sidecar"))) = {1, 3};
int fixed(int x) { return x + 2; }
KPATCH_IGNORE_SECTION(".data.sidecar");
C
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["fixed"]'
expect_json '.refused' '[]'
expect_json '.ignored' '["section .data.sidecar"]'
expect_no_section .data.sidecar
expect_linkable

sed -i 's/KPATCH_IGNORE_SECTION(".data.sidecar");/KPATCH_IGNORE_SECTION(".data.nowhere");/' "$T/patched.c"
build_plain
run_diff
expect_exit 3
expect_refused .data.nowhere "KPATCH_IGNORE_SECTION names a section the patched object does not have"
expect_refused sidecar "changed existing data"
pass
