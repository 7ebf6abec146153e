#!/bin/bash
# Usage errors exit 2, unreadable or malformed input exits 1, each with a message.
. "$(dirname "$0")/common.sh"
set +e
"$NR_DIFF_TOOL" diff "$T/only-one.o" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "one file: exit $rc, expected 2"
grep -q "usage" "$T/err" || fail "no usage text"
"$NR_DIFF_TOOL" diff a.o b.o --frobnicate >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "unknown option: exit $rc, expected 2"
"$NR_DIFF_TOOL" diff "$T/missing.o" "$T/missing2.o" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "missing file: exit $rc, expected 1"
grep -q "missing.o" "$T/err" || fail "missing file not named: $(cat "$T/err")"
echo "not an object" > "$T/text.o"
"$NR_DIFF_TOOL" diff "$T/text.o" "$T/text.o" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "malformed input: exit $rc, expected 1"
grep -q "text.o: .*ELF" "$T/err" || fail "malformed input not explained: $(cat "$T/err")"
pass
