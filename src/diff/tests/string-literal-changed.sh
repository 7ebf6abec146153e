#!/bin/bash
# A changed string literal changes the function that uses it (strings compare by content), and
# the output carries the new literal.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
extern int printk(const char *fmt, ...);
void report(int x) { printk("value is %d\n", x); }
void quiet(int x) { printk("quiet %d\n", x); }
EOF
cat > "$T/patched.c" <<'EOF'
extern int printk(const char *fmt, ...);
void report(int x) { printk("value now is %d\n", x); }
void quiet(int x) { printk("quiet %d\n", x); }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["report"]'
strings -a "$T/out.o" | grep -q "value now is" || fail "the new literal is not in the output"
pass
