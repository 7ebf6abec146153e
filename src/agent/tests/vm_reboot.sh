#!/usr/bin/env bash
# vm tier, agent: reboots on Debian's real kernel. Three boots of the same kernel share one
# state folder (tests/vm/vm-run --share-rw), as three boots of one host share /var/lib/noreboot.
#
#   vm_reboot.sh NOREBOOT NOREBOOT_ADMIN
#
# boot 1: the daemon runs (not enrolled: guarding only); `noreboot apply fix1` goes live; the
#         daemon is stopped with SIGTERM and records the clean shutdown of this boot.
# boot 2: the daemon's early start reapplies fix1 (last-good.nrp): /sys/kernel/livepatch and
#         /proc/cmdline show it. Then `noreboot apply fix2` goes live and, seconds later, the
#         kernel crashes (`echo c > /proc/sysrq-trigger`): no clean shutdown, fix2 live for
#         less than settle_seconds. vm-run exits 125 (kernel panic), which is expected here.
# boot 3: the daemon starts, the crash-loop guard quarantines fix2 and loads nothing; status
#         --json and check (exit 2, CRITICAL) say why.
# Every in-guest step is asserted by vm_reboot_guest.sh; the host checks its step lines.
. "$(dirname "$0")/vm_lib.sh"   # vm cases' lib on testlib, NOREBOOT, ADMIN, HERE, $T/id.json, the publisher key
mkdir -p "$T/state"
"$BUILD_MODULE" "$HERE/modules/fix" "$T/mod" > /dev/null || fail "build-module fix"
for n in 1 2; do
  python3 - "$T/id.json" "$n" > "$T/b/fix$n.json" <<'PY'
import json, sys
n = sys.argv[2]
print(json.dumps({"name": "nr_agent_fix" + n, "sequence": int(n), "kernel": json.load(open(sys.argv[1])),
                  "fixes": [{"id": "NR-REBOOT-" + n, "description": "agent reboot test fix " + n}]}))
PY
  "$ADMIN" sign --key "$T/keys/publisher.key" --manifest "$T/b/fix$n.json" --module "$T/mod/nr_agent_fix$n.ko" \
    -o "$T/b/fix$n.nrp" > /dev/null || fail "noreboot-admin sign fix$n"
done
ok "built and signed fix1 and fix2 for $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' "$T/id.json")"

# settle_seconds: a patch live for less than this when the machine dies is the suspect.
cat > "$T/cfg/agent.toml" <<TOML
trusted_keys = ["$T/keys/publisher.pub"]
[timeouts]
transition_seconds = 20
watch_seconds = 1
settle_seconds = 300
TOML

# boot PHASE WANT_RC: one boot of the guest script; the state folder is the writable share.
boot() {
  local rc=0
  echo "== boot $1"
  vm "$T/out$1" "$T/err$1" --timeout 400 --share "$T/b" --share "$T/cfg" --share "$T/keys" \
    --share "$(dirname "$NOREBOOT")" --share "$HERE" --share-rw "$T/state" -- \
    sh "$HERE/vm_reboot_guest.sh" "$1" "$NOREBOOT" "$T/cfg/agent.toml" "$T/state" "$T/b" "$T/keys/publisher.pub" || rc=$?
  sed 's/^/  [guest] /' "$T/out$1"
  expect_rc "$2" "$rc" "boot $1"
}

boot 1 0
expect_line "$T/out1" '^step: fix1 live' "boot 1: fix1 applied"
expect_line "$T/out1" '^step: clean shutdown recorded' "boot 1: the daemon recorded its clean shutdown"
expect_line "$T/out1" '^PASS$' "boot 1: every guest step passed"
boot1_id=$(sed -n 's/^boot_id //p' "$T/out1")
[ "$(cat "$T/state/clean-shutdown")" = "$boot1_id" ] || fail "the host sees clean-shutdown '$(cat "$T/state/clean-shutdown")', expected boot 1's id $boot1_id"
ok "the shared state holds boot 1's clean-shutdown record ($boot1_id)"

boot 2 125   # the guest crashes on purpose: vm-run reports the kernel panic
expect_line "$T/out2" '^step: fix1 reapplied at start' "boot 2: the daemon reapplied fix1 early"
expect_line "$T/out2" '^step: fix2 live' "boot 2: fix2 applied"
expect_line "$T/out2" '^step: crashing now' "boot 2: the guest reached the crash"
expect_line "$T/err2" 'the guest kernel panicked' "boot 2: vm-run saw the kernel panic"
boot2_id=$(sed -n 's/^boot_id //p' "$T/out2")
[ "$(cat "$T/state/clean-shutdown")" = "$boot1_id" ] || fail "a clean shutdown was recorded for the crashed boot"
python3 - "$T/state/journal.json" "$boot2_id" <<'PY' || fail "the journal left by the crashed boot is not 'fix2 live in boot 2'"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["step"] == "live" and j["patch"] == "nr_agent_fix2" and j["boot_id"] == sys.argv[2], j
PY
ok "the crashed boot left journal 'live nr_agent_fix2' and no clean-shutdown record"

boot 3 0
expect_line "$T/out3" '^step: nothing loaded' "boot 3: the crash-loop guard loaded nothing"
expect_line "$T/out3" '^step: status says quarantined' "boot 3: status --json names the quarantine and why"
expect_line "$T/out3" '^step: check critical' "boot 3: check exits 2 (CRITICAL) with the reason"
expect_line "$T/out3" '^PASS$' "boot 3: every guest step passed"
grep '^timing' "$T/out1" "$T/out2" "$T/out3" | sed 's/^/measured: /'
