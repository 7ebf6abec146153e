#!/usr/bin/env bash
# shell tier: a fix that does not compile (compile-error.patch uses an undeclared name in
# fs/proc/cmdline.c) is refused with exit 3, "the fix does not compile", and the compiler's own
# error line with the patch's file name and line (fs/proc/cmdline.c:10:...), not the work
# folder's copy, and not objtool's "Can't open .../patched/....o". Nothing is written.
# Usage: compile-error.sh NOREBOOT_BUILD
set -uo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-compile-error   # build, $T, fail (with the build log), the work folder removed at exit
export LC_ALL=C   # gcc quotes with ASCII quotes
rc=0
"$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/compile-error.patch" -o "$T/out.nrp" > "$T/log" 2>&1 || rc=$?
TESTLIB_LOGS=("$T/log") TESTLIB_LOG_LINES=1000   # the whole log, as before
[ $rc -eq 3 ] || fail "exit $rc, expected 3 (refused)"
grep -q '^refused: fs/proc/cmdline.c: the fix does not compile' "$T/log" || fail "no 'refused: fs/proc/cmdline.c: the fix does not compile'"
grep -Eq "^    fs/proc/cmdline.c:10:[0-9]+: error: 'noreboot_undeclared_separator' undeclared" "$T/log" ||
  fail "the compiler's error line with the patch's file name and line is missing"
grep -q "^    fs/proc/cmdline.c: In function 'cmdline_proc_show':" "$T/log" || fail "the compiler's context line is missing"
grep -q '  what to do: correct the fix' "$T/log" || fail "no 'what to do'"
! grep -q 'src-patched\|src-orig' "$T/log" || fail "the work folder's paths leak into the message"
! grep -qi "can't open\|objtool" "$T/log" || fail "objtool ran on the missing object"
[ ! -e "$T/out.nrp" ] || fail "wrote $T/out.nrp"
echo "ok: $(grep -m1 ': error: ' "$T/log" | sed 's/^ *//')"
echo PASS
