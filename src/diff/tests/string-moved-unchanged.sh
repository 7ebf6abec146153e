#!/bin/bash
# Literals that only moved (a new literal earlier in the same string section shifts every offset)
# do not mark their users changed.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
extern int printk(const char *fmt, ...);
void a(int x) { printk("alpha %d\n", x); }
void b(int x) { printk("beta %d\n", x); }
EOF
cat > "$T/patched.c" <<'EOF'
extern int printk(const char *fmt, ...);
void a(int x) { if (x < 0) printk("negative!\n"); printk("alpha %d\n", x); }
void b(int x) { printk("beta %d\n", x); }
EOF
EXTRA_CFLAGS="-fno-data-sections" build_plain
run_diff
expect_exit 0
expect_json '.changed' '["a"]'
pass
