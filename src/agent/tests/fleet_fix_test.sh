#!/usr/bin/env bash
# shell/store tier, agent: one fix rolled out across three kernels by real agents.
#
#   fleet_fix_test.sh NOREBOOT NOREBOOT_SERVER NOREBOOT_ADMIN NOREBOOT_FAKE_KERNEL [sqlite|postgres]
#
# Six real `noreboot agent` processes, each on its own fake kernel folder (noreboot-fake-kernel,
# see fleet_test.sh), two hosts on each of three kernel identities (6.1.0-55/-56/-57-amd64, each
# with its own build ID and Debian version), against a real noreboot-server on 127.0.0.1. The
# store is SQLite in the test's folder, or with `postgres` the PostgreSQL that tests/with-postgres
# started (NOREBOOT_PG_CONNINFO). Every fix is published the way the builder leaves it: one .nrp
# per kernel it was built for and a fix record (fix.json, signed into fix.sig with
# `noreboot-admin sign --record`) saying "built" for -55 and -56 and "already_fixed" for -57, with
# `noreboot-admin publish DIR`.
#
# 1. FLEET-A, staged (34 %, then 100 % on promote). The hosts in the first stage are computed
#    here from the rollout id (the documented FNV-1a placement); GET /v1/fixes/FLEET-A and the
#    rollout's counts are checked before, at each stage and at the end: patched / exposed /
#    already_fixed, each host running its own kernel's bundle; the -57 hosts are never offered.
# 2. FLEET-B, budget 0, while host 1's fake kernel refuses the next load. Hosts 2-4 are stopped
#    first, so host 1 is the only one offered: its failure halts the fix rollout and blocks BOTH
#    of its bundles (-55 and -56). Hosts 2-4 restart and check in: nothing is offered while halted.
#    Resume unblocks both; hosts 2 (-55) and 3, 4 (-56) apply; host 1 is not offered again.
#    (The rollout's `offered` count is printed: it may count the stopped hosts whose long poll
#    was still parked when the rollout was created; see docs/api.md.)
# 3. FLEET-C, a cumulative bundle per kernel carrying FLEET-A, FLEET-B and FLEET-C, replaces what
#    every host runs: the hosts stay "patched" for FLEET-A and FLEET-B.
# After every step GET /v1/fleet's `exposed` entries agree with the per-fix groups.
# Every process this test starts is stopped by its PID.
set -euo pipefail
NOREBOOT=$1 SERVER=$2 ADMIN=$3 FAKE=$4 STORE=${5:-sqlite}
for b in "$NOREBOOT" "$SERVER" "$ADMIN" "$FAKE"; do
  [ -x "$b" ] || { echo "FAIL: '$b' is not an executable (build first)" >&2; exit 1; }
done
store_args=()
case $STORE in
  sqlite) ;;
  postgres)
    [ -n "${NOREBOOT_PG_CONNINFO:-}" ] || { echo "FAIL: postgres: run under src/server/tests/with-postgres" >&2; exit 1; }
    store_args=(--postgres "$NOREBOOT_PG_CONNINFO dbname=postgres") ;;
  *) echo "FAIL: store '$STORE': give sqlite or postgres" >&2; exit 2 ;;
esac
N=6
T=$(mktemp -d "${TMPDIR:-/tmp}/nr-fleetfix.XXXXXX")
server_pid="" agent_pids=()
cleanup() {
  local rc=$?
  for p in "${agent_pids[@]+"${agent_pids[@]}"}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
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
py() { python3 -c "$@"; }
start=$SECONDS
# wait_for SECONDS WHAT COMMAND...: polls every 0.3 s; every running agent must stay alive
wait_for() {
  local s=$1 what=$2; shift 2
  local end=$((SECONDS + s))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || fail "$what (waited $s s)"
    for p in "${agent_pids[@]+"${agent_pids[@]}"}"; do
      [ -z "$p" ] || kill -0 "$p" 2>/dev/null || fail "agent pid $p exited early"
    done
    sleep 0.3
  done
}

# --- kernels: host i runs kernel k = (i+1)/2 -----------------------------------------------------
release() { echo "6.1.0-5$((4 + $1))-amd64"; }
debver() { echo "6.1.19$((($1) - 1))-1"; }
buildid() { local d; d=$(printf '%x' $((10 + $1))); printf "5${d}%.0s" $(seq 20); }
kernel_of() { echo $((($1 + 1) / 2)); }

# --- server ---------------------------------------------------------------------------------------
mkdir -p "$T/keys"
"$ADMIN" keygen "$T/keys/publisher" > /dev/null
port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$SERVER" --listen "127.0.0.1:$port" --data "$T/server" "${store_args[@]+"${store_args[@]}"}" \
  --trust "$T/keys/publisher.pub" --log-format text > "$T/server.log" 2>&1 &
server_pid=$!
server_up() { kill -0 "$server_pid" 2>/dev/null || fail "the server exited"; curl -fs "$url/healthz" > /dev/null 2>&1; }
wait_for 60 "the server did not answer /healthz" server_up
export NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN
NOREBOOT_ADMIN_TOKEN=$(cat "$T/server/admin.token")
api() { curl -fsS -H "Authorization: Bearer $NOREBOOT_ADMIN_TOKEN" "$url$1"; }
ok "server on $url (pid $server_pid, store $STORE)"

# --- hosts ------------------------------------------------------------------------------------
token=$("$ADMIN" token create-enrollment --group fleet --ttl 3600 --max-uses "$N" --json |
        py 'import json,sys; print(json.load(sys.stdin)["token"])')
start_agent() {  # start_agent I: runs host I's agent in the background, its pid in agent_pids
  "$NOREBOOT" --root "$T/h$1" agent >> "$T/h$1/agent.log" 2>&1 &
  agent_pids[$(($1 - 1))]=$!
}
stop_agent() {  # stop_agent I: SIGTERM, exit 0, clean shutdown recorded
  local p=${agent_pids[$(($1 - 1))]} rc=0
  kill -TERM "$p"
  wait "$p" || rc=$?
  agent_pids[$(($1 - 1))]=""
  [ "$rc" = 0 ] || fail "agent $1 (pid $p) exited $rc on SIGTERM"
  [ "$(cat "$T/h$1/var/lib/noreboot/clean-shutdown")" = "fleetfix-boot-$1" ] || fail "agent $1 did not record its clean shutdown"
}
for i in $(seq "$N"); do
  R=$T/h$i k=$(kernel_of "$i")
  "$FAKE" create "$R" --boot-id "fleetfix-boot-$i" --release "$(release "$k")" --build-id "$(buildid "$k")" \
    --version "Linux version $(release "$k") (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian $(debver "$k") (2026-11-16)"
  mkdir -p "$R/etc/noreboot"
  cat > "$R/etc/noreboot/agent.toml" <<TOML
server = "$url"
trusted_keys = ["$T/keys/publisher.pub"]
[checkin]
interval_seconds = 5
jitter_seconds = 1
long_poll_seconds = 10
[timeouts]
transition_seconds = 5
watch_seconds = 0.3
settle_seconds = 30
TOML
  "$NOREBOOT" --root "$R" enroll --token "$token" --hostname "ff-$i" > /dev/null
  start_agent "$i"
done
# hosts_ok PYTHON_CONDITION: true when it holds; `hs` maps host number -> the host's JSON
hosts_ok() {
  "$ADMIN" hosts --json > "$T/hosts.json" || return 1
  py "import json,sys
hs = {int(h['hostname'][3:]): h for h in json.load(open('$T/hosts.json'))['hosts']}
def sha(i): return (hs[i]['applied'] or {}).get('bundle_sha256', '')
sys.exit(0 if len(hs) == $N and ($1) else 1)"
}
wait_for 60 "not every host enrolled and checked in" hosts_ok 'all(h["last_seen"] > 0 for h in hs.values())'
py "import json
hs = json.load(open('$T/hosts.json'))['hosts']
print(json.dumps({h['hostname']: h['id'] for h in hs}))" > "$T/ids.json"
ok "$N agents on 3 kernels enrolled and checking in (pids ${agent_pids[*]})"

# --- fixes: a module per fix, a bundle per kernel, a signed record ------------------------------
# make_fix NAME MODULE SEQUENCE "FIX_IDS...": DIR $T/NAME with -55.nrp, -56.nrp, fix.json, fix.sig;
# the bundles carry every id of FIX_IDS, the record names the first one.
make_fix() {
  local name=$1 module=$2 seq=$3 ids=$4 d=$T/$1
  mkdir -p "$d"
  cat > "$d/$module.c" <<C
static const char nr_modinfo[] __attribute__((section(".modinfo"), used, aligned(1))) =
    "license=GPL\0livepatch=Y\0name=$module\0vermagic=fleet fix test";
int $module(void) { return $seq; }
C
  cc -c -o "$d/$module.ko" "$d/$module.c"
  rm "$d/$module.c"
  for k in 1 2; do
    "$FAKE" identity "$T/h$((2 * k))" > "$d/id.json"
    py "import json
ids = '$ids'.split()
print(json.dumps({'name': '$module', 'sequence': $seq, 'kernel': json.load(open('$d/id.json')),
                  'fixes': [{'id': i, 'description': 'fleet fix test ' + i} for i in ids]}))" > "$d/m.json"
    "$ADMIN" sign --key "$T/keys/publisher.key" --manifest "$d/m.json" --module "$d/$module.ko" \
      -o "$d/$(release "$k").nrp" > /dev/null
  done
  rm "$d/m.json" "$d/id.json" "$d/$module.ko"
  py "import hashlib, json
ids = '$ids'.split()
def built(k, rel, ver, bid):
    sha = hashlib.sha256(open('$d/' + rel + '.nrp', 'rb').read()).hexdigest()
    return {'release': rel, 'version': ver, 'outcome': 'built',
            'bundle': {'file': rel + '.nrp', 'sha256': sha, 'build_id': bid, 'module': '$module', 'sequence': $seq}}
rec = {'format_version': 1, 'fixes': [{'id': ids[0], 'description': 'fleet fix test ' + ids[0]}],
       'patch': {'name': '$name.patch', 'sha256': 'a' * 64},
       'kernels': [built(1, '$(release 1)', '$(debver 1)', '$(buildid 1)'),
                   built(2, '$(release 2)', '$(debver 2)', '$(buildid 2)'),
                   {'release': '$(release 3)', 'version': '$(debver 3)', 'outcome': 'already_fixed', 'reason': ''}],
       'builder_version': 'fleet test', 'created': '2026-12-03T00:00:00Z'}
open('$d/fix.json', 'w').write(json.dumps(rec, indent=2) + '\n')"
  "$ADMIN" sign --key "$T/keys/publisher.key" --record "$d/fix.json" > /dev/null
  "$ADMIN" publish "$d" > "$T/publish-$name.txt" || fail "publish $d: $(cat "$T/publish-$name.txt")"
  grep -q "published fix record" "$T/publish-$name.txt" || fail "publish $d did not publish the record"
}
sha_of() { sha256sum "$T/$1/$(release "$2").nrp" | cut -d' ' -f1; }

# expect_fix ID PATCHED EXPOSED ALREADY_FIXED: GET /v1/fixes/ID, and /v1/fleet agrees
expect_fix() {
  api "/v1/fixes/$1" > "$T/fix.json"
  api /v1/fleet > "$T/fleet.json"
  py "import json
f = json.load(open('$T/fix.json'))['hosts']
want = {'total': $N, 'patched': $2, 'exposed': $3, 'already_fixed': $4, 'not_built': 0, 'not_covered': 0}
got = {g: (f[g] if g == 'total' else f[g]['count']) for g in want}
assert got == want, ('GET /v1/fixes/$1', got, 'expected', want)
af = f['already_fixed']['kernels']
assert $4 == 0 or [k['release'] for k in af] == ['$(release 3)'], af
fleet = json.load(open('$T/fleet.json'))
in_fleet = sum(x['hosts'] for e in fleet['exposed'] for x in e['fixes'] if x['id'] == '$1')
assert in_fleet == $3, ('GET /v1/fleet exposed entries count', in_fleet, 'hosts exposed to $1, /v1/fixes says', $3, fleet['exposed'])
" || fail "fix $1 at step '$step'"
  ok "[$step] $1: patched $2, exposed $3, already_fixed $4 (and /v1/fleet agrees)"
}
# expect_rollout ID STATE APPLIED FAILED [TARGETED]
expect_rollout() {
  "$ADMIN" rollout status "$1" --json > "$T/rollout.json"
  py "import json
r = json.load(open('$T/rollout.json')); c = r['counts']
assert r['state'] == '$2', ('state', r['state'], 'expected $2', r)
assert c['applied'] == $3 and c['failed'] == $4 and c['targeted'] == ${5:-4}, ('counts', c, r)
assert sorted(k['release'] for k in r['kernels']) == ['$(release 1)', '$(release 2)'], r['kernels']
" || fail "rollout $1 at step '$step'"
  ok "[$step] rollout $1: $2, applied $3, failed $4, targeted ${5:-4}"
}
rollout_state_is() {  # rollout_state_is ID STATE
  "$ADMIN" rollout status "$1" --json | py "import json,sys; sys.exit(0 if json.load(sys.stdin)['state'] == '$2' else 1)"
}
blocked_are() {  # blocked_are true|false SHA...: every listed bundle blocked (or not)
  local want=$1; shift
  api /v1/bundles | py "import json,sys
bs = {b['sha256']: b for b in json.load(sys.stdin)['bundles']}
want = '$want' == 'true'
sys.exit(0 if all(bs[s]['blocked'] == want for s in '$*'.split()) else 1)"
}
never_offered_57() {  # the -57 hosts run nothing and never failed
  hosts_ok 'all(sha(i) == "" and hs[i]["state"] != "failed" for i in (5, 6))' ||
    fail "a host on $(release 3) (already fixed) was offered a bundle: $(cat "$T/hosts.json")"
}

# --- 1. FLEET-A: staged, 34 % then 100 % ------------------------------------------------------------
step="FLEET-A published"
make_fix A nr_fleet_a 1 "FLEET-A"
A1=$(sha_of A 1) A2=$(sha_of A 2)
expect_fix FLEET-A 0 4 2
step="FLEET-A stage 1 (34 %)"
ra=$("$ADMIN" rollout create --fix FLEET-A --group fleet --stage 34:3600:0 --stage 100:0:0 --json |
     py 'import json,sys; print(json.load(sys.stdin)["id"])')
# Who is in the first stage: bucket = FNV-1a-64(rollout id + "/" + host id) mod 10000 / 100 < 34.
in1=$(py "import json
ids = json.load(open('$T/ids.json'))
def bucket(s):
    h = 1469598103934665603
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return (h % 10000) / 100
print(' '.join(str(i) for i in range(1, 5) if bucket('$ra/' + ids['ff-%d' % i]) < 34))")
k1=$(echo $in1 | wc -w)
ok "rollout $ra created; hosts in stage 1 by placement: [${in1}] ($k1 of 4)"
own_bundle='(sha(i) == ("'"$A1"'" if i <= 2 else "'"$A2"'"))'
wait_for 120 "the stage-1 hosts [$in1] did not apply FLEET-A" \
  hosts_ok "all($own_bundle and hs[i]['state'] == 'applied' for i in [${in1// /,}])"
sleep 2  # give any wrongly offered host time to show up
hosts_ok "all(sha(i) == '' for i in range(1, 5) if i not in [${in1// /,}])" ||
  fail "a host outside stage 1 was offered FLEET-A: $(cat "$T/hosts.json")"
"$ADMIN" rollout status "$ra" --json | py "import json,sys
r = json.load(sys.stdin); assert r['counts']['in_stage'] == $k1, r['counts']" ||
  fail "the server's in_stage differs from the placement computed here ($k1)"
expect_fix FLEET-A "$k1" $((4 - k1)) 2
expect_rollout "$ra" running "$k1" 0
step="FLEET-A stage 2 (100 %)"
"$ADMIN" rollout promote "$ra" > /dev/null
wait_for 120 "not every -55/-56 host applied its own kernel's FLEET-A bundle" \
  hosts_ok "all($own_bundle and hs[i]['state'] == 'applied' for i in range(1, 5))"
wait_for 60 "rollout $ra did not complete" rollout_state_is "$ra" completed
expect_fix FLEET-A 4 0 2
expect_rollout "$ra" completed 4 0
never_offered_57
for i in 1 3; do
  [ "$(cat "$T/h$i/sys/kernel/livepatch/nr_fleet_a/enabled")" = 1 ] || fail "host $i: nr_fleet_a not enabled in its fake kernel"
done

# --- 2. FLEET-B: host 1's kernel refuses; the halt blocks both bundles; resume resumes both -----------
step="FLEET-B published"
make_fix B nr_fleet_b 2 "FLEET-B"
B1=$(sha_of B 1) B2=$(sha_of B 2)
expect_fix FLEET-B 0 4 2
echo "livepatch: nr_fleet_b: fake kernel refuses this module" > "$T/h1/fake/reject"
for i in 2 3 4; do stop_agent "$i"; done
ok "agents 2-4 stopped: only host 1 (on $(release 1)) can take FLEET-B"
step="FLEET-B failure on host 1"
rb=$("$ADMIN" rollout create --fix FLEET-B --group fleet --stage 100:0:0 --json |
     py 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_for 120 "rollout $rb was not halted by host 1's failure" rollout_state_is "$rb" halted
wait_for 30 "FLEET-B's bundles for BOTH kernels are not blocked after the halt" blocked_are true "$B1" "$B2"
"$ADMIN" rollout status "$rb" --json > "$T/rb.json"
ok "rollout $rb halted ($(py "import json; print(json.load(open('$T/rb.json'))['halt_reason'])")); both bundles blocked"
ok "measured: rollout $rb counts offered $(py "import json; print(json.load(open('$T/rb.json'))['counts']['offered'])") (host 1; more if a stopped agent's parked long poll was answered)"
hosts_ok "hs[1]['state'] == 'failed' and 'fake kernel refuses this module' in hs[1]['last_error'] and sha(1) == '$A1'" ||
  fail "host 1 should be failed with the kernel's words and keep FLEET-A: $(cat "$T/hosts.json")"
expect_rollout "$rb" halted 0 1
expect_fix FLEET-B 0 4 2
expect_fix FLEET-A 4 0 2
step="FLEET-B halted, hosts 2-4 back"
t_back=$(date +%s)
for i in 2 3 4; do start_agent "$i"; done
checked_in_since() {  # checked_in_since T I...: each agent's own status shows a check-in at or after T
  local t=$1 i; shift
  for i in "$@"; do
    "$NOREBOOT" --root "$T/h$i" status --json 2>/dev/null |
      py "import json,sys; sys.exit(0 if json.load(sys.stdin)['last_checkin'] >= $t else 1)" || return 1
  done
}
# The agent's own record of a check-in answered: each restarted agent's first long poll (10 s)
# came back, and (below) with nothing offered. (The server refreshes an unchanged host's
# last_seen at most every 30 s, so it cannot say this sooner.)
wait_for 60 "agents 2-4 did not check in again" checked_in_since "$t_back" 2 3 4
hosts_ok "all(sha(i) == ('$A1' if i == 2 else '$A2') for i in (2, 3, 4))" ||
  fail "a host was offered FLEET-B while its rollout was halted: $(cat "$T/hosts.json")"
expect_fix FLEET-B 0 4 2
ok "[$step] nothing offered while halted"
step="FLEET-B resumed"
"$ADMIN" rollout resume "$rb" > /dev/null
blocked_are false "$B1" "$B2" || fail "resume did not unblock both of FLEET-B's bundles"
wait_for 120 "hosts 2 ($(release 1)), 3 and 4 ($(release 2)) did not apply FLEET-B after the resume" \
  hosts_ok "sha(2) == '$B1' and sha(3) == '$B2' and sha(4) == '$B2' and all(hs[i]['state'] == 'applied' for i in (2, 3, 4))"
wait_for 60 "rollout $rb did not complete after the resume" rollout_state_is "$rb" completed
hosts_ok "sha(1) == '$A1' and hs[1]['state'] == 'failed'" || fail "host 1 was offered FLEET-B again after failing it"
expect_rollout "$rb" completed 3 1
expect_fix FLEET-B 3 1 2
expect_fix FLEET-A 1 3 2   # FLEET-B's bundles do not carry FLEET-A: hosts 2-4 left it
never_offered_57

# --- 3. FLEET-C: a cumulative bundle per kernel (A, B and C) replaces what every host runs --------
step="FLEET-C published"
make_fix C nr_fleet_c 3 "FLEET-C FLEET-A FLEET-B"
C1=$(sha_of C 1) C2=$(sha_of C 2)
expect_fix FLEET-C 0 4 2
step="FLEET-C applied"
rc_=$("$ADMIN" rollout create --fix FLEET-C --group fleet --stage 100:0:0 --json |
      py 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_for 120 "not every -55/-56 host moved to its kernel's cumulative FLEET-C bundle" \
  hosts_ok "all(sha(i) == ('$C1' if i <= 2 else '$C2') and hs[i]['state'] == 'applied' for i in range(1, 5))"
wait_for 60 "rollout $rc_ did not complete" rollout_state_is "$rc_" completed
expect_rollout "$rc_" completed 4 0
expect_fix FLEET-C 4 0 2
expect_fix FLEET-A 4 0 2
expect_fix FLEET-B 4 0 2
never_offered_57
for i in 1 3; do
  [ "$(cat "$T/h$i/sys/kernel/livepatch/nr_fleet_c/enabled")" = 1 ] || fail "host $i: nr_fleet_c not enabled in its fake kernel"
done

# --- clean stop -----------------------------------------------------------------------------------
for i in $(seq "$N"); do stop_agent "$i"; done
agent_pids=()
kill -TERM "$server_pid"; rc=0; wait "$server_pid" || rc=$?; server_pid=""
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
ok "$N agents and the server stopped cleanly ($((SECONDS - start)) s in all)"
echo PASS
