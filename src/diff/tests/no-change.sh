#!/bin/bash
# A fix that changes nothing in the code (a comment) exits 4 and writes nothing.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
static int hidden(int x) { return x + 1; }
int api(int x) { return hidden(x) * 2; }
EOF
cat > "$T/patched.c" <<'EOF'
/* Explain api() better. */
static int hidden(int x) { return x + 1; }
int api(int x) { return hidden(x) * 2; /* unchanged */ }
EOF
build_plain
run_diff
expect_exit 4
expect_json '.changed' '[]'
expect_json '.new' '[]'
[ ! -e "$T/out.o" ] || fail "an output object was written for no change"
pass
