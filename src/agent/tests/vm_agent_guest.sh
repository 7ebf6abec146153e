#!/bin/sh
# Runs INSIDE the guest (vm-run): the agent's host commands on the real kernel, one boot.
# Usage: vm_agent_guest.sh NOREBOOT CONFIG BUNDLE_DIR PUBLISHER.pub
# Prints "step: ..." per passed step, "timing ..." lines, and PASS at the end; the first
# failure prints "FAIL: ..." with the agent's output and the kernel log tail, and exits 1.
set -u
NB=$1 CFG=$2 B=$3 PUB=$4
W=/tmp/agent-vm
mkdir -p "$W"
nb() { "$NB" --config "$CFG" --state-dir /var/lib/noreboot "$@"; }
. "$(dirname "$0")/guest_lib.sh"
has() { grep -q -- "$1" "$W/$2" || fail "noreboot output ($2) lacks '$1'"; }
cmdline() { cat /proc/cmdline; }

orig=$(cmdline)
run 0 status --json
[ "$(json 'd["kernel"]["release"]')" = "$(uname -r)" ] || fail "status: kernel release is not $(uname -r)"
[ "$(json 'd["applied"]')" = None ] || fail "status: something applied before the test"
run 0 check

# 1. a good bundle goes live
run 0 apply --trust "$PUB" --json "$B/fix1.nrp"
[ "$(cmdline)" = NR-AGENT-FIX-1 ] || fail "/proc/cmdline is '$(cmdline)' after applying fix1"
[ "$(cat /sys/kernel/livepatch/nr_agent_fix1/transition)" = 0 ] || fail "fix1 still in transition"
echo "timing fix1 prep_ms=$(json 'round(d["prep_ms"], 2)') load_ms=$(json 'round(d["load_ms"], 2)') transition_s=$(json 'round(d["transition_seconds"], 3)')"
echo "step: applied fix1"
run 0 status --json
[ "$(json 'd["applied"]["patch"]')" = nr_agent_fix1 ] || fail "status: applied patch is not nr_agent_fix1"
[ "$(json 'd["applied"]["loaded"]')" = True ] || fail "status: fix1 not loaded"
[ "$(json 'd["applied"]["fixes"][0]')" = "NR-TEST-1: agent vm test nr_agent_fix1" ] || fail "status: fixes missing"
case "$(json 'd["step"]')" in live|stable) ;; *) fail "status: step is not live";; esac
[ "$(json 'd["health"]')" = ok ] || fail "status: health is not ok"
run 0 check
has "NOREBOOT OK" out
echo "step: status shows fix1"

# 2. refusals: nothing loaded, fix1 stays
run 3 apply --trust "$PUB" "$B/tampered.nrp"
has "sha256\|SHA-256" err
[ ! -e /sys/module/nr_agent_fix2 ] || fail "tampered: the module was loaded"
echo "step: tampered refused: $(head -n 1 "$W/err")"
run 3 apply --trust "$PUB" "$B/wrongkernel.nrp"
has "build ID" err
[ ! -e /sys/module/nr_agent_fix2 ] || fail "wrong kernel: the module was loaded"
echo "step: wrong kernel refused: $(grep 'build ID' "$W/err" | head -n 1 | sed 's/^ *//')"
run 3 apply --trust "$PUB" "$B/stranger.nrp"
has "not trusted\|untrusted" err
echo "step: untrusted refused: $(head -n 1 "$W/err")"
[ "$(cmdline)" = NR-AGENT-FIX-1 ] || fail "/proc/cmdline changed by a refused bundle"
run 1 check
has "NOREBOOT WARNING" out

# 3. a newer cumulative patch replaces the older one; the older one is then a rollback
run 0 apply --trust "$PUB" --json "$B/fix2.nrp"
[ "$(cmdline)" = NR-AGENT-FIX-2 ] || fail "/proc/cmdline is '$(cmdline)' after applying fix2"
[ ! -e /sys/kernel/livepatch/nr_agent_fix1 ] || fail "fix1 still registered after fix2 replaced it"
[ ! -e /sys/module/nr_agent_fix1 ] || fail "the replaced module nr_agent_fix1 was not unloaded"
echo "timing fix2 prep_ms=$(json 'round(d["prep_ms"], 2)') load_ms=$(json 'round(d["load_ms"], 2)') transition_s=$(json 'round(d["transition_seconds"], 3)')"
echo "step: fix2 replaced fix1"
run 3 apply --trust "$PUB" "$B/fix1.nrp"
has "rollback" err
[ "$(cmdline)" = NR-AGENT-FIX-2 ] || fail "/proc/cmdline changed by the rollback attempt"
echo "step: rollback refused: $(head -n 1 "$W/err")"

# 4. revert
run 0 revert
[ "$(cmdline)" = "$orig" ] || fail "/proc/cmdline is '$(cmdline)' after revert, expected the original"
[ ! -e /sys/kernel/livepatch/nr_agent_fix2 ] || fail "fix2 still registered after revert"
[ ! -e /sys/module/nr_agent_fix2 ] || fail "nr_agent_fix2 still loaded after revert"
run 0 status --json
[ "$(json 'd["applied"]')" = None ] || fail "status: still shows an applied patch after revert"
echo "step: reverted: $(cat "$W"/out | head -c 0)/proc/cmdline is the original again"

# 5. a transition that cannot finish: signalled, reversed, reported with the blocking thread
insmod "$B/nr_stall_target.ko" || fail "insmod nr_stall_target"
sleep 0.2
run 4 apply --trust "$PUB" "$B/stall.nrp"
has "signalling" err
has "reversing" err
has "nr_stall_thread" err
has "nr_stall_sleep" err
[ ! -e /sys/kernel/livepatch/nr_agent_stall ] || fail "nr_agent_stall still registered after the reversal"
[ ! -e /sys/module/nr_agent_stall ] || fail "nr_agent_stall still loaded after the reversal"
run 0 status --json
[ "$(json 'd["blocked"][0]["comm"]')" = nr_stall_thread ] || fail "status: blocked task is not nr_stall_thread"
json 'd["blocked"][0]["stack"]' | grep -q nr_stall_sleep || fail "status: the blocked stack lacks nr_stall_sleep"
[ "$(json 'd["step"]')" = failed ] || fail "status: step is not failed after the reversal"
echo "step: stall reversed and reported: $(grep -m1 'nr_stall_thread (pid' "$W/err" | sed 's/^ *//')"
rmmod nr_stall_target || fail "rmmod nr_stall_target"
echo PASS
