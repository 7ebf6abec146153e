#!/bin/bash
# A new function called by a changed one: both are carried, the new one is listed as new.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int scale(int x) { return x * 3; }
EOF
cat > "$T/patched.c" <<'EOF'
__attribute__((noinline)) int clamp_value(int x) { return x > 100 ? 100 : x; }
int scale(int x) { return clamp_value(x) * 3; }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["scale"]'
expect_json '.new' '["clamp_value"]'
expect_section .text.clamp_value
expect_symbol clamp_value '[0-9]+'
readelf -rW "$T/out.o" | grep -A20 "rela.text.scale" | grep -q "clamp_value" ||
  fail "scale does not call clamp_value in the output"
expect_linkable
pass
