#!/usr/bin/env bash
# shell tier: a fix written for kpatch that changes a system call through kpatch-syscall.h
# (kpatch-syscall.patch: KPATCH_SYSCALL_DEFINE1(newuname, ...) appends " noreboot" to the
# version) builds unchanged. The body moves into traceable code, so the differ replaces exactly
# the entry points __x64_sys_newuname and __ia32_sys_newuname and adds __se_sys_newuname, and a
# bundle is written. The same change under the kernel's own SYSCALL_DEFINE1 is refused
# (syscall-uname-refused, in patches_refused): its __do_sys_newuname is notrace.
# Usage: kpatch-syscall.sh NOREBOOT_BUILD
set -uo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/testlib.sh"
testlib_workdir nr-kpatch-syscall
export XDG_CONFIG_HOME=$work/config LC_ALL=C
TESTLIB_LOGS=("$work/log")
TESTLIB_LOG_LINES=40
rc=0
"$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/kpatch-syscall.patch" --sequence 1 \
  -o "$work/out.nrp" > "$work/log" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "exit $rc, expected 0 (built)"
line=$(grep -m1 '^\[diff\] kernel/sys.c (vmlinux):' "$work/log") || fail "no '[diff] kernel/sys.c (vmlinux):' line"
got=$(tr ' ' '\n' <<<"${line#*:}" | sed '/^$/d' | sort | tr '\n' ' ')
want="+__se_sys_newuname __ia32_sys_newuname __x64_sys_newuname "
[ "$got" = "$want" ] || fail "the differ named '$got', expected '$want'"
[ -s "$work/out.nrp" ] || fail "no bundle written"
pass "$line"
echo PASS
