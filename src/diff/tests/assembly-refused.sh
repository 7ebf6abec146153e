#!/bin/bash
# A changed function of an assembly (.S) object is refused.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.S" <<'EOF'
	.section .text.asm_add,"ax",@progbits
	.globl asm_add
	.type asm_add, @function
asm_add:
	lea 1(%rdi), %rax
	ret
	.size asm_add, .-asm_add
EOF
cat > "$T/patched.S" <<'EOF'
	.section .text.asm_add,"ax",@progbits
	.globl asm_add
	.type asm_add, @function
asm_add:
	lea 2(%rdi), %rax
	ret
	.size asm_add, .-asm_add
EOF
SRC_EXT=S build_plain
run_diff
expect_exit 3
expect_refused asm_add "changed assembly"
pass
