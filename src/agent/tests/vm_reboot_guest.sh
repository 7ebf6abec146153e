#!/bin/sh
# Runs INSIDE the guest (vm-run), once per boot of vm_reboot.sh; STATE is a writable share
# that survives from one boot to the next, like a host's /var/lib/noreboot.
# Usage: vm_reboot_guest.sh PHASE NOREBOOT CONFIG STATE BUNDLE_DIR PUBLISHER.pub
# Prints "boot_id ...", "step: ..." per passed step, "timing ..." and PASS (phases 1 and 3);
# phase 2 ends in a kernel crash. The first failure prints "FAIL: ..." and exits 1.
set -u
PHASE=$1 NB=$2 CFG=$3 STATE=$4 B=$5 PUB=$6
W=/tmp/agent-vm
mkdir -p "$W"
nb() { "$NB" --config "$CFG" --state-dir "$STATE" "$@"; }
. "$(dirname "$0")/guest_lib.sh"
now() { cut -d' ' -f1 /proc/uptime; }
# wait_live PATCH SECONDS: until /sys/kernel/livepatch/PATCH has finished its transition
wait_live() {
  i=0
  while [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" != 0 ]; do
    i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1
    kill -0 "$daemon" 2>/dev/null || fail "the daemon exited early"
    sleep 0.1
  done
}
start_daemon() {
  t_start=$(now)
  "$NB" --config "$CFG" --state-dir "$STATE" agent > "$W/daemon.log" 2>&1 &   # not through nb(): $! must be noreboot
  daemon=$!
}
stop_daemon() {
  kill -TERM "$daemon" || fail "the daemon is not running"
  rc=0; wait "$daemon" || rc=$?
  [ "$rc" = 0 ] || fail "the daemon exited $rc after SIGTERM"
}
boot_id=$(cat /proc/sys/kernel/random/boot_id)
echo "boot_id $boot_id"
orig=$(cat /proc/cmdline)

case "$PHASE" in
1)
  start_daemon
  run 0 apply --trust "$PUB" --json "$B/fix1.nrp"
  [ "$(cat /proc/cmdline)" = NR-AGENT-FIX-1 ] || fail "/proc/cmdline is '$(cat /proc/cmdline)' after applying fix1"
  echo "step: fix1 live"
  sleep 1
  kill -0 "$daemon" 2>/dev/null || fail "the daemon (not enrolled) did not keep running"
  stop_daemon
  [ "$(cat "$STATE/clean-shutdown")" = "$boot_id" ] || fail "clean-shutdown is not this boot's id"
  echo "step: clean shutdown recorded"
  ;;
2)
  [ ! -e /sys/kernel/livepatch/nr_agent_fix1 ] || fail "fix1 is loaded before the agent started"
  [ "$(cat /proc/cmdline)" != NR-AGENT-FIX-1 ] || fail "/proc/cmdline shows fix1 before the agent started"
  start_daemon
  wait_live nr_agent_fix1 60 || fail "the daemon did not reapply fix1 within 60 s"
  t_live=$(now)
  [ "$(cat /proc/cmdline)" = NR-AGENT-FIX-1 ] || fail "/proc/cmdline is '$(cat /proc/cmdline)' after the reapply"
  i=0   # the daemon logs the reapply after watching the kernel log for watch_seconds
  until grep -q "reapplied at start" "$W/daemon.log"; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "the daemon log does not say it reapplied"
    sleep 0.1
  done
  echo "timing reapply daemon_start_to_live_s=$(awk -v a="$t_start" -v b="$t_live" 'BEGIN {printf "%.2f", b - a}') boot_to_live_s=$t_live"
  run 0 status --json
  [ "$(json 'd["applied"]["patch"]')" = nr_agent_fix1 ] || fail "status: applied is not nr_agent_fix1"
  [ "$(json 'd["applied"]["loaded"]')" = True ] || fail "status: fix1 not loaded"
  json 'd["startup_report"]' | grep -q "clean shutdown" || fail "status: the startup report does not mention the clean shutdown"
  echo "step: fix1 reapplied at start ($(json 'd["startup_report"]'))"
  run 0 apply --trust "$PUB" --json "$B/fix2.nrp"
  [ "$(cat /proc/cmdline)" = NR-AGENT-FIX-2 ] || fail "/proc/cmdline is '$(cat /proc/cmdline)' after applying fix2"
  echo "step: fix2 live"
  echo "step: crashing now"
  sleep 1   # let the lines above leave through the virtio-serial port
  echo c > /proc/sysrq-trigger
  sleep 30
  fail "the kernel did not crash"
  ;;
3)
  start_daemon
  i=0
  until grep -q "crash-loop guard" "$W/daemon.log"; do
    i=$((i + 1)); [ $i -gt 300 ] && fail "the daemon did not report the crash-loop guard within 30 s"
    kill -0 "$daemon" 2>/dev/null || fail "the daemon exited early"
    sleep 0.1
  done
  sleep 2   # a reapply, had the guard allowed one, would have started by now
  [ -z "$(ls /sys/kernel/livepatch)" ] || fail "a livepatch is loaded: $(ls /sys/kernel/livepatch)"
  [ ! -e /sys/module/nr_agent_fix2 ] && [ ! -e /sys/module/nr_agent_fix1 ] || fail "a test module is loaded"
  [ "$(cat /proc/cmdline)" = "$orig" ] || fail "/proc/cmdline is '$(cat /proc/cmdline)'"
  echo "step: nothing loaded ($(grep -m1 'crash-loop guard' "$W/daemon.log" | sed 's/^.*crash-loop guard/crash-loop guard/' | cut -c1-160)...)"
  run 0 status --json
  [ "$(json 'd["quarantined"][0]["patch"]')" = nr_agent_fix2 ] || fail "status: nr_agent_fix2 is not quarantined"
  json 'd["quarantined"][0]["reason"]' | grep -q "without a clean shutdown" || fail "status: the quarantine reason lacks 'without a clean shutdown'"
  [ "$(json 'd["applied"]["patch"]')" = nr_agent_fix2 ] || fail "status: applied is not nr_agent_fix2"
  [ "$(json 'd["applied"]["loaded"]')" = False ] || fail "status: fix2 shows as loaded"
  [ "$(json 'd["health"]')" = critical ] || fail "status: health is not critical"
  echo "step: status says quarantined: $(json 'd["quarantined"][0]["reason"]' | cut -c1-200)"
  run 2 check
  grep -q "NOREBOOT CRITICAL" "$W/out" || fail "check does not say CRITICAL"
  grep -q "crash-loop guard quarantined nr_agent_fix2" "$W/out" || fail "check does not name the quarantine"
  echo "step: check critical: $(grep -m1 'crash-loop' "$W/out" | cut -c1-200)"
  stop_daemon
  ;;
*) fail "unknown phase $PHASE" ;;
esac
echo PASS
