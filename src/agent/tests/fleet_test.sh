#!/usr/bin/env bash
# shell tier, agent: a fleet of real `noreboot agent` processes against a real noreboot-server.
#
#   fleet_test.sh NOREBOOT NOREBOOT_SERVER NOREBOOT_ADMIN NOREBOOT_FAKE_KERNEL [HOSTS]
#
# Each host is one agent process with its own fake kernel folder (`noreboot --root DIR`, see
# src/agent/fake_kernel.h; prepared with the test-only noreboot-fake-kernel) and its own state
# (DIR/var/lib/noreboot). The server runs on 127.0.0.1 (a free port) with SQLite in the test's
# temporary folder. The bundles carry a module compiled here from C (a .modinfo that says
# livepatch=Y) and are signed with noreboot-admin for the fake kernel's identity.
#
# 1. every host enrolls with one enrollment token and checks in (long poll);
# 2. fix1 is published and rolled out to 100 %: every agent downloads, verifies and loads it
#    into its fake kernel, and the server shows every host applied;
# 3. fix2 is rolled out with a failure budget of 0 while host 2's fake kernel refuses the next
#    load (EINVAL with a kernel log line): host 2 reports the failure with the kernel's words,
#    keeps fix1 live, and the server halts the rollout and blocks fix2.
# Every process this test starts is stopped by its PID (agents with SIGTERM: each must exit 0
# and record its clean shutdown; then the server).
set -euo pipefail
NOREBOOT=$1 SERVER=$2 ADMIN=$3 FAKE=$4 N=${5:-4}
for b in "$NOREBOOT" "$SERVER" "$ADMIN" "$FAKE"; do
  [ -x "$b" ] || { echo "FAIL: '$b' is not an executable (build first)" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/nr-fleet.XXXXXX")
server_pid="" agent_pids=()
cleanup() {
  local rc=$?
  for p in "${agent_pids[@]+"${agent_pids[@]}"}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ "$rc" != 0 ]; then
    for f in "$T"/server.log "$T"/h*/agent.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done
  fi
  rm -rf "$T"
  exit "$rc"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit 'cleanup'
trap 'exit 130' INT TERM
ok() { echo "ok: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# wait_for SECONDS WHAT COMMAND...: polls every 0.2 s
wait_for() {
  local s=$1 what=$2; shift 2
  local end=$((SECONDS + s))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || fail "$what (waited $s s)"
    for p in "${agent_pids[@]+"${agent_pids[@]}"}"; do kill -0 "$p" 2>/dev/null || fail "agent pid $p exited early"; done
    sleep 0.2
  done
}
py() { python3 -c "$@"; }

# --- server -----------------------------------------------------------------------------------
mkdir -p "$T/keys" "$T/mod"
"$ADMIN" keygen "$T/keys/publisher" > /dev/null
port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$SERVER" --listen "127.0.0.1:$port" --data "$T/server" --trust "$T/keys/publisher.pub" --log-format text \
  > "$T/server.log" 2>&1 &
server_pid=$!
server_up() { kill -0 "$server_pid" 2>/dev/null || fail "the server exited"; curl -fs "$url/healthz" > /dev/null 2>&1; }
wait_for 30 "the server did not answer /healthz" server_up
export NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN
NOREBOOT_ADMIN_TOKEN=$(cat "$T/server/admin.token")
ok "server on $url (pid $server_pid)"

# --- hosts ------------------------------------------------------------------------------------
token=$("$ADMIN" token create-enrollment --group fleet --ttl 3600 --max-uses "$N" --json |
        py 'import json,sys; print(json.load(sys.stdin)["token"])')
for i in $(seq "$N"); do
  R=$T/h$i
  "$FAKE" create "$R" --boot-id "fleet-boot-$i"
  mkdir -p "$R/etc/noreboot"
  cat > "$R/etc/noreboot/agent.toml" <<TOML
server = "$url"
trusted_keys = ["$T/keys/publisher.pub"]
[checkin]
interval_seconds = 5
jitter_seconds = 1
long_poll_seconds = 20
[timeouts]
transition_seconds = 5
watch_seconds = 0.3
settle_seconds = 30
TOML
  "$NOREBOOT" --root "$R" enroll --token "$token" --hostname "fleet-$i" > /dev/null
  "$NOREBOOT" --root "$R" agent > "$R/agent.log" 2>&1 &
  agent_pids+=($!)
done
hosts_json() { "$ADMIN" hosts --json; }
# all_hosts PYTHON_CONDITION_ON_h: true when every host satisfies it
all_hosts() {
  hosts_json | py "import json,sys
d = json.load(sys.stdin)
hs = d['hosts']
sys.exit(0 if len(hs) == $N and all($1 for h in hs) else 1)"
}
wait_for 60 "not every host enrolled and checked in" all_hosts 'h["last_seen"] > 0'
ok "$N agents enrolled and checking in (pids ${agent_pids[*]})"

# --- bundles: a module compiled here, signed for the fake kernel's identity --------------------
"$FAKE" identity "$T/h1" > "$T/id.json"
for n in 1 2; do
  cat > "$T/mod/nr_fleet_fix$n.c" <<C
/* What the agent checks in a module: an ELF whose .modinfo says livepatch=Y and its name. */
static const char nr_modinfo[] __attribute__((section(".modinfo"), used, aligned(1))) =
    "license=GPL\0livepatch=Y\0name=nr_fleet_fix$n\0vermagic=fleet test";
int nr_fleet_fix$n(void) { return $n; }
C
  cc -c -o "$T/mod/nr_fleet_fix$n.ko" "$T/mod/nr_fleet_fix$n.c"
  py "import json,sys
print(json.dumps({'name': 'nr_fleet_fix$n', 'sequence': $n, 'kernel': json.load(open('$T/id.json')),
                  'fixes': [{'id': 'FLEET-$n', 'description': 'fleet test fix $n'}]}))" > "$T/fix$n.json"
  "$ADMIN" sign --key "$T/keys/publisher.key" --manifest "$T/fix$n.json" --module "$T/mod/nr_fleet_fix$n.ko" \
    -o "$T/fix$n.nrp" > /dev/null
  "$ADMIN" publish "$T/fix$n.nrp" > /dev/null
done
sha1=$(sha256sum "$T/fix1.nrp" | cut -d' ' -f1)
sha2=$(sha256sum "$T/fix2.nrp" | cut -d' ' -f1)
ok "published fix1 ($sha1) and fix2 ($sha2)"

# --- 1. rollout of fix1 to every host ---------------------------------------------------------
t0=$(now)
r1=$("$ADMIN" rollout create --bundle "$sha1" --group fleet --stage 100:0:0 --json | py 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_for 120 "not every host reported fix1 applied" \
  all_hosts 'h["state"] == "applied" and (h["applied"] or {}).get("sequence") == 1'
ok "every host applied fix1 $(since "$t0") s after the rollout was created (long poll)"
for i in $(seq "$N"); do
  R=$T/h$i
  [ "$(cat "$R/sys/kernel/livepatch/nr_fleet_fix1/enabled")" = 1 ] || fail "host $i: fix1 not enabled in its fake kernel"
  [ "$(cat "$R/sys/kernel/livepatch/nr_fleet_fix1/transition")" = 0 ] || fail "host $i: fix1 still in transition"
  "$NOREBOOT" --root "$R" status --json > "$T/status$i.json"
  py "import json,sys
d = json.load(open('$T/status$i.json'))
assert d['applied']['patch'] == 'nr_fleet_fix1' and d['applied']['loaded'], d['applied']
assert d['last_checkin'] > 0, d" || fail "host $i: noreboot status does not show fix1 live"
done
ok "every fake kernel shows nr_fleet_fix1 enabled, transition 0; every noreboot status agrees"
"$ADMIN" rollout status "$r1" --json | py "import json,sys
r = json.load(sys.stdin); c = r['counts']
assert c['applied'] == $N and c['failed'] == 0, r" || fail "rollout $r1 does not count $N applied"
ok "rollout $r1 counts $N applied, 0 failed"

# --- 2. fix2 with a failure budget of 0; host 2's kernel refuses the load ----------------------
echo "livepatch: nr_fleet_fix2: fake kernel refuses this module" > "$T/h2/fake/reject"
r2=$("$ADMIN" rollout create --bundle "$sha2" --group fleet --stage 100:0:0 --json | py 'import json,sys; print(json.load(sys.stdin)["id"])')
rollout_halted() { "$ADMIN" rollout status "$r2" --json | py 'import json,sys; sys.exit(0 if json.load(sys.stdin)["state"] == "halted" else 1)'; }
wait_for 120 "rollout $r2 was not halted after host 2's failure" rollout_halted
"$ADMIN" rollout status "$r2" --json > "$T/r2.json"
ok "rollout $r2 halted: $(py 'import json; print(json.load(open("'"$T"'/r2.json"))["halt_reason"])')"
hosts_json > "$T/hosts.json"
py "import json
hs = {h['hostname']: h for h in json.load(open('$T/hosts.json'))['hosts']}
h2 = hs['fleet-2']
assert h2['state'] == 'failed', h2
assert 'fake kernel refuses this module' in h2['last_error'], h2['last_error']
assert h2['applied']['sequence'] == 1, h2
for name, h in hs.items():   # nobody is left without a patch
    assert h['applied'] and h['applied']['sequence'] in (1, 2), (name, h)
print('host fleet-2 on the server: state failed, last_error:', h2['last_error'][:160])" || fail "the server's view of host 2"
[ -e "$T/h2/sys/kernel/livepatch/nr_fleet_fix1" ] && [ ! -e "$T/h2/sys/module/nr_fleet_fix2" ] ||
  fail "host 2: fix1 should still be live and fix2 not loaded"
"$NOREBOOT" --root "$T/h2" status --json > "$T/status2.json"
py "import json
d = json.load(open('$T/status2.json'))
assert not d['last_outcome_ok'] and ('EINVAL' in d['last_outcome'] or 'Invalid argument' in d['last_outcome']), d['last_outcome']
assert d['applied']['patch'] == 'nr_fleet_fix1' and d['applied']['loaded'], d" ||
  fail "host 2: noreboot status does not show the refused load and fix1 live"
ok "host 2 keeps fix1 live and its status names the kernel's refusal"
curl -fs -H "Authorization: Bearer $NOREBOOT_ADMIN_TOKEN" "$url/v1/bundles" | py "import json,sys
d = json.load(sys.stdin)
bs = d['bundles'] if isinstance(d, dict) else d
b = [x for x in bs if x['sha256'] == '$sha2'][0]
assert b['blocked'], b" || fail "fix2 is not blocked on the server"
ok "the server blocked fix2"

# --- clean stop ---------------------------------------------------------------------------------
for i in $(seq "$N"); do
  p=${agent_pids[$((i - 1))]}
  kill -TERM "$p"
  rc=0; wait "$p" || rc=$?
  [ "$rc" = 0 ] || fail "agent $i (pid $p) exited $rc on SIGTERM"
  [ "$(cat "$T/h$i/var/lib/noreboot/clean-shutdown")" = "fleet-boot-$i" ] || fail "agent $i did not record its clean shutdown"
done
agent_pids=()
kill -TERM "$server_pid"; rc=0; wait "$server_pid" || rc=$?; server_pid=""
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
ok "$N agents and the server stopped cleanly (SIGTERM, exit 0, clean-shutdown recorded)"
echo PASS
