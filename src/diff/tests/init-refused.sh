#!/bin/bash
# A changed __init function (section .init.text) is refused: it ran already and is freed.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int setup_done;
__attribute__((section(".init.text"))) int setup_thing(void) { setup_done = 1; return 0; }
EOF
cat > "$T/patched.c" <<'EOF'
int setup_done;
__attribute__((section(".init.text"))) int setup_thing(void) { setup_done = 2; return 0; }
EOF
build_plain
run_diff
expect_exit 3
expect_refused setup_thing "changed __init function"
pass
