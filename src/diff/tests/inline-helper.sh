#!/bin/bash
# A changed inline helper changes every function it was inlined into, and only those.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
static inline int adjust(int x) { return x + 7; }
int left(int x) { return adjust(x) * 2; }
int right(int x) { return adjust(x) - 1; }
int bystander(int x) { return x ^ 5; }
EOF
cat > "$T/patched.c" <<'EOF'
static inline int adjust(int x) { return x + 8; }
int left(int x) { return adjust(x) * 2; }
int right(int x) { return adjust(x) - 1; }
int bystander(int x) { return x ^ 5; }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["left","right"]'
expect_json '.new' '[]'
expect_no_section .text.bystander
pass
