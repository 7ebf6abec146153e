#!/bin/bash
# A changed function is named (and only it); the output carries it alone.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int limit = 10;
int check(int x) { return x < limit; }
int other(int x) { return x * 3; }
EOF
cat > "$T/patched.c" <<'EOF'
int limit = 10;
int check(int x) { return x <= limit; }
int other(int x) { return x * 3; }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["check"]'
expect_json '.new' '[]'
expect_json '.refused' '[]'
expect_section .text.check
expect_no_section .text.other
expect_symbol check '[0-9]+'
expect_symbol limit UND
expect_json '[.references[] | select(.name == "limit") | .bind]' '["global"]'
expect_linkable
pass
