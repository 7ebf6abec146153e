#!/usr/bin/env bash
# vm tier, timeout: a command that hangs is killed at --timeout, vm-run exits 124 and says
# "timed out after 20 s", and the QEMU process it started (pid from its progress line) is
# gone when vm-run returns.
. "$(dirname "$0")/lib.sh"
rc=0
start=$SECONDS
vm "$T/out" "$T/err" --timeout 20 -- sh -c 'echo hanging; sleep 100000' || rc=$?
took=$((SECONDS - start))
expect_rc 124 "$rc" "hung command"
expect_line "$T/err" 'timed out after 20 s' "reported as a timeout"
expect_line "$T/out" '^hanging$' "output before the hang still arrives"
[ "$took" -ge 20 ] && [ "$took" -le 45 ] || fail "vm-run returned after $took s, expected 20-45"
ok "vm-run returned after $took s"
pid=$(sed -n 's/.*qemu pid \([0-9]*\).*/\1/p' "$T/err" | head -1)
[ -n "$pid" ] || fail "no qemu pid in vm-run's progress output"
if kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/cmdline" 2>/dev/null; then
  fail "QEMU (pid $pid) is still running after vm-run returned"
fi
ok "QEMU pid $pid is gone"
