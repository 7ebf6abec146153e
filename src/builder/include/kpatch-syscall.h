/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-syscall.h for noreboot: KPATCH_SYSCALL_DEFINE0..6, so that fixes written for kpatch
 * that change a system call build unchanged. Written from the x86 syscall wrapper macros of
 * the kernel being patched (arch/x86/include/asm/syscall_wrapper.h, include/linux/syscalls.h)
 * and shares no code with kpatch.
 *
 * Why the kernel's own SYSCALL_DEFINEn cannot be patched as it stands: for a system call with
 * arguments it makes three functions,
 *   __x64_sys_NAME / __ia32_sys_NAME(regs)  the entry points, which unpack the registers;
 *   __se_sys_NAME(long...)                   sign-extends each argument (static);
 *   __do_sys_NAME(typed args)                the body written after the macro, declared
 *                                            `static inline`.
 * In the kernel `inline` also means notrace (include/linux/compiler_types.h), so when GCC
 * emits __do_sys_NAME out of line (a body too large to inline, as newuname's) that copy has no
 * __fentry__ call: ftrace, and so livepatch, cannot redirect it, and the builder refuses it
 * ("function cannot be traced").
 *
 * KPATCH_SYSCALL_DEFINEn makes the same three functions with the same names and argument
 * handling, and the same trace metadata (SYSCALL_METADATA), but declares __do_sys_NAME
 * __always_inline: the body always lands in traceable code (__se_sys_NAME, or the entry
 * points when GCC inlines that too), so the differ reports the entry points (or
 * __se_sys_NAME) changed and the patch replaces those. KPATCH_SYSCALL_DEFINE0 is the kernel's
 * SYSCALL_DEFINE0: its __do_sys_NAME is a plain static function, traceable as it is.
 *
 * Only x86-64 kernels with CONFIG_ARCH_HAS_SYSCALL_WRAPPER (Debian's amd64) are handled; on
 * anything else the build stops with an error naming this header.
 *
 * noreboot-build puts this folder on the include path of every patched copy, so both
 * #include "kpatch-syscall.h" and #include <kpatch-syscall.h> find it.
 */
#ifndef NOREBOOT_KPATCH_SYSCALL_H
#define NOREBOOT_KPATCH_SYSCALL_H

#include <linux/syscalls.h>

#if !defined(CONFIG_X86_64) || !defined(CONFIG_ARCH_HAS_SYSCALL_WRAPPER)
#error "kpatch-syscall.h (noreboot): KPATCH_SYSCALL_DEFINEn is provided for x86-64 kernels with syscall wrappers only; use SYSCALL_DEFINEn"
#endif

#define KPATCH_SYSCALL_DEFINE0(name) SYSCALL_DEFINE0(name)
#define KPATCH_SYSCALL_DEFINE1(name, ...) __NOREBOOT_SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) __NOREBOOT_SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) __NOREBOOT_SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) __NOREBOOT_SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) __NOREBOOT_SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) __NOREBOOT_SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

/*
 * N arguments, NAME with its leading underscore (_newuname). The entry point stubs, the
 * argument maps (__MAP, __SC_*) and __PROTECT are the kernel's own, so the entry points keep
 * their exact names, prototypes and error-injection entries; only __do_sys's inlining differs.
 */
#define __NOREBOOT_SYSCALL_DEFINEx(x, name, ...)                                          \
	SYSCALL_METADATA(name, x, __VA_ARGS__)                                            \
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__));                     \
	static __always_inline long __do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__));     \
	__X64_SYS_STUBx(x, name, __VA_ARGS__)                                             \
	__IA32_SYS_STUBx(x, name, __VA_ARGS__)                                            \
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__))                      \
	{                                                                                 \
		long __noreboot_ret = __do_sys##name(__MAP(x, __SC_CAST, __VA_ARGS__));   \
		__MAP(x, __SC_TEST, __VA_ARGS__);                                         \
		__PROTECT(x, __noreboot_ret, __MAP(x, __SC_ARGS, __VA_ARGS__));           \
		return __noreboot_ret;                                                    \
	}                                                                                 \
	static __always_inline long __do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))

#endif /* NOREBOOT_KPATCH_SYSCALL_H */
