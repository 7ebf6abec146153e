#!/bin/bash
# A changed local const table changes its users (its content is part of them) and travels with
# them as a copy; it is not refused as "changed data" because the running kernel's copy is not
# written.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
static const int weights[8] = {1, 2, 3, 4, 5, 6, 7, 8};
int weigh(unsigned i) { return weights[i & 7]; }
int plain(int x) { return x + 1; }
EOF
cat > "$T/patched.c" <<'EOF'
static const int weights[8] = {1, 2, 3, 4, 5, 6, 7, 9};
int weigh(unsigned i) { return weights[i & 7]; }
int plain(int x) { return x + 1; }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["weigh"]'
expect_json '.changed_rodata' '["weights"]'
expect_symbol weights '[0-9]+'
pass
