#!/usr/bin/env bash
# vm tier, timeout and teardown: a command that hangs is killed at --timeout, vm-run exits
# 124 and says "timed out after 45 s", and the QEMU process it started (pid from its
# progress line) is gone when vm-run returns. Then a vm-run that gets SIGTERM while the
# guest runs exits 143 and leaves no QEMU behind, and one killed with SIGKILL (no trap can
# run) takes its QEMU with it (parent-death signal).
. "$(dirname "$0")/lib.sh"
rc=0
start=$SECONDS
# 45 s, not less: on a busy machine (load 20 on 2 cores) the boot alone can take 25 s, and
# the output written before the hang must have arrived.
vm "$T/out" "$T/err" --timeout 45 -- sh -c 'echo hanging; sleep 100000' || rc=$?
took=$((SECONDS - start))
expect_rc 124 "$rc" "hung command"
expect_line "$T/err" 'timed out after 45 s' "reported as a timeout"
expect_line "$T/out" '^hanging$' "output before the hang still arrives"
[ "$took" -ge 45 ] && [ "$took" -le 90 ] || fail "vm-run returned after $took s, expected 45-90"
ok "vm-run returned after $took s"
pid=$(sed -n 's/.*qemu pid \([0-9]*\).*/\1/p' "$T/err" | head -1)
[ -n "$pid" ] || fail "no qemu pid in vm-run's progress output"
if kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/cmdline" 2>/dev/null; then
  fail "QEMU (pid $pid) is still running after vm-run returned"
fi
ok "QEMU pid $pid is gone"

# qemu_of ERRFILE: wait until vm-run printed its QEMU pid, print it
qemu_of() {
  for _ in $(seq 600); do
    p=$(sed -n 's/.*qemu pid \([0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  fail "vm-run never printed its qemu pid"
}
gone() { ! { kill -0 "$1" 2>/dev/null && grep -q qemu "/proc/$1/cmdline" 2>/dev/null; }; }
for sig in TERM KILL; do
  TMPDIR=$T "$VM_RUN" -- sleep 100000 > "$T/out.$sig" 2> "$T/err.$sig" &   # run folder inside $T
  vpid=$!
  qpid=$(qemu_of "$T/err.$sig")
  sleep 2
  kill -0 "$qpid" 2>/dev/null || fail "QEMU $qpid not running 2 s after start"
  kill -"$sig" "$vpid"
  rc=0; wait "$vpid" || rc=$?
  [ "$sig" = TERM ] && expect_rc 143 "$rc" "vm-run after SIGTERM"
  for _ in $(seq 50); do gone "$qpid" && break; sleep 0.1; done
  gone "$qpid" || { kill -KILL "$qpid"; fail "QEMU $qpid survived SIG$sig to vm-run"; }
  ok "QEMU $qpid gone after SIG$sig to vm-run"
done
