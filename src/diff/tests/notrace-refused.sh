#!/bin/bash
# A function without `call __fentry__` (notrace) cannot be redirected by ftrace: refused.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
__attribute__((no_instrument_function)) int fast_path(int x) { return x + 1; }
EOF
cat > "$T/patched.c" <<'EOF'
__attribute__((no_instrument_function)) int fast_path(int x) { return x + 2; }
EOF
build_plain
run_diff
expect_exit 3
expect_refused fast_path "cannot be traced"
pass
