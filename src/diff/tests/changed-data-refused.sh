#!/bin/bash
# Changing the initial value of existing data is refused (the running kernel's copy is live).
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int threshold = 10;
int over(int x) { return x > threshold; }
EOF
cat > "$T/patched.c" <<'EOF'
int threshold = 20;
int over(int x) { return x > threshold; }
EOF
build_plain
run_diff
expect_exit 3
expect_refused threshold "changed existing data"
[ ! -e "$T/out.o" ] || fail "an output object was written for a refused change"
pass
