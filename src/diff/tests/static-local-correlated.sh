#!/bin/bash
# A static local keeps being the running kernel's variable (a reference by its ORIG name, local
# binding), even when GCC renumbers it (count.1 -> count.2) and another function has its own
# `count`.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int ticks(void) { static int count; return ++count; }
int tocks(void) { static int count; return count += 2; }
EOF
cat > "$T/patched.c" <<'EOF'
int first(void) { static int count; return count--; }
int ticks(void) { static int count; count += 1; return count * 2; }
int tocks(void) { static int count; return count += 2; }
EOF
build_plain
orig_name=$(readelf -sW "$T/orig.o" | awk '$8 ~ /^count\./ {print $8}' | head -1)
run_diff
expect_exit 0
expect_json '.changed' '["ticks"]'
expect_json '.new' '["first"]'
expect_symbol "$orig_name" UND
expect_json "[.references[] | select(.name == \"$orig_name\") | .bind]" '["local"]'
# Only the new function's own static local is defined by the patch.
[ "$(readelf -sW "$T/out.o" | awk '$8 ~ /^count\./ && $7 != "UND"' | wc -l)" = 1 ] ||
  fail "expected exactly one defined count.N (first's)"
expect_linkable
pass
