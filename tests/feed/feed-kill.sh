#!/usr/bin/env bash
# vm tier (it needs the prepared kernel trees, not QEMU): noreboot-feed SIGKILLed mid-build and
# mid-publish, with the real builder, the real noreboot-admin and a real noreboot-server
# (SQLite, 127.0.0.1); then rerun, and compared with a run that was never killed.
#
#   feed-kill.sh BUILD_DIR
#
# Nothing names an ABI: the three newest complete kernels of the archive (kernel-fetch --list)
# are OLD, MID, NEW; the feed starts after MID's version, so the one new version is NEW's (on
# 3 Dec 2026 6.1.192-3, nfsd, CVE-2026-99362), built for the fleet's OLD and MID kernels (hosts
# enrolled with fake kernels carrying those identities) and NEW (already fixed). `test = false`:
# no QEMU here (feed_november_replay covers the smoke tests).
#   1. reference: a fresh server and data folder, one run, never killed;
#   2. killed mid-build: SIGKILL to the feed (by PID) while noreboot-build compiles. The builder
#      must be gone within 60 s (parent-death signal; its compilers are not: reported and waited
#      for, see docs/feed.md "Not yet"), nothing is published, the state has the fix derived and
#      not built, and no out/ folder exists;
#   3. killed mid-publish: the feed's admin tool is a wrapper (tools.admin) that, once, uploads
#      the first bundle with the real noreboot-admin and then SIGKILLs the feed, its parent.
#      The server then holds that one bundle and no fix record (so no exposure, no rollout);
#   4. the rerun resumes (it does not build again: one "building" line over all runs after the
#      kill mid-build), exits 0, and the server's end state equals the reference's: the same
#      fix ids, the same outcome per kernel in the record, one bundle per built kernel, one
#      rollout per fix; a further run does nothing.
. "$(dirname "$0")/lib.sh" "${1:-}" nr-feed-kill   # testlib, the binaries, $T, ok, py, three_newest_kernels, feed_tools
server_pids=() feed_pid=""
stop_all() {
  local p
  [ -n "$feed_pid" ] && kill -KILL "$feed_pid" 2>/dev/null
  for p in "${server_pids[@]+"${server_pids[@]}"}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
}
on_exit stop_all
TESTLIB_LOGS=("$T/*/server.log" "$T/*/run*.out") TESTLIB_LOG_LINES=20

three_newest_kernels
echo "kernels: $old_abi ($old_v), $mid_abi ($mid_v), $new_abi ($new_v); the feed starts after $mid_v"
build_id_of() { readelf -n "$(eval "$("$repo/scripts/kernel-fetch" --abi "$1" --quiet)"; echo "$NR_VMLINUX")" | awk '/Build ID:/ {print $3; exit}'; }
"$admin" keygen "$T/publisher" > /dev/null

# setup NAME: a server and a feed data folder in $T/NAME, two fake hosts (OLD, MID) enrolled.
setup() {
  local d=$T/$1 port url i abi ver
  mkdir -p "$d"
  port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  "$server" --listen "127.0.0.1:$port" --data "$d/server" --trust "$T/publisher.pub" --log-format text > "$d/server.log" 2>&1 &
  server_pids+=($!)
  for _ in $(seq 150); do curl -fs "$url/healthz" > /dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/healthz" > /dev/null || fail "$1: the server did not come up"
  echo "$url" > "$d/url"
  cp "$d/server/admin.token" "$d/admin.token"
  NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN=$(cat "$d/admin.token") "$admin" token create-admin --role read > "$d/read.token" 2> /dev/null
  local enroll
  enroll=$(NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN=$(cat "$d/admin.token") "$admin" token create-enrollment --max-uses 2 --json |
           py 'import json,sys; print(json.load(sys.stdin)["token"])')
  i=0
  for abi in "$old_abi" "$mid_abi"; do
    i=$((i + 1)); ver=$old_v; [ "$abi" = "$mid_abi" ] && ver=$mid_v
    "$fake" create "$d/host$i" --boot-id "kill-$i" --release "$abi" --build-id "$(build_id_of "$abi")" \
      --version "Linux version $abi (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian $ver (2026-11-16)"
    mkdir -p "$d/host$i/etc/noreboot"
    printf 'server = "%s"\ntrusted_keys = ["%s"]\n' "$url" "$T/publisher.pub" > "$d/host$i/etc/noreboot/agent.toml"
    NOREBOOT_FORBID_REAL_KERNEL=1 "$agent" --root "$d/host$i" enroll --token "$enroll" --hostname "host$i" > /dev/null
  done
  cat > "$d/feed.toml" <<TOML
server = "$url"
read_token_file = "read.token"
admin_token_file = "admin.token"
publisher_key = "$T/publisher.key"
data_dir = "data"
series = "$(echo "$new_v" | cut -d. -f1-2)"
start_after = "$mid_v"
approve = "auto"
test = false
[[stages]]
percent = 100
failure_budget = 0
TOML
  feed_tools "$d/admin-wrapper" >> "$d/feed.toml"
  # The admin tool the feed drives: the real one, except that while $d/kill-in-publish exists
  # its first `publish DIR` uploads DIR's first bundle alone and then SIGKILLs the feed.
  cat > "$d/admin-wrapper" <<SH
#!/usr/bin/env bash
if [ "\$1" = publish ] && [ -e "$d/kill-in-publish" ]; then
  rm -f "$d/kill-in-publish"
  dir=\$2; shift 2
  first=\$(ls "\$dir"/*.nrp | head -1)
  "$admin" publish "\$first" "\$@" || exit 1
  echo "admin-wrapper: uploaded \$(basename "\$first") alone; SIGKILL to the feed (pid \$PPID)"
  kill -KILL "\$PPID"
  sleep 30
  exit 1
fi
exec "$admin" "\$@"
SH
  chmod +x "$d/admin-wrapper"
}
api() { curl -fsS -H "Authorization: Bearer $(cat "$T/$1/admin.token")" "$(cat "$T/$1/url")$2"; }
# The server's state, normalized: what an unkilled run and a killed-and-resumed run must share.
end_state() {
  { api "$1" /v1/fixes; echo; api "$1" /v1/bundles; echo; api "$1" /v1/rollouts; echo; } | py '
import json, sys
fixes, bundles, rollouts = [json.loads(l) for l in sys.stdin.read().split("\n") if l.strip()]
out = {
  "fixes": sorted((f["id"], sorted((k["release"], k["outcome"]) for k in f["kernels"])) for f in fixes["fixes"]),
  "bundles": sorted((b["kernel"]["release"], b.get("fixes") or [], b["blocked"]) for b in bundles["bundles"]),
  # A one-stage 100 % rollout goes from running to completed on the ticker while the test
  # runs on, at its own pace: both count as started (a halted one would not).
  "rollouts": sorted((r.get("fix", ""), {"running": "started", "completed": "started"}.get(r.get("state", ""), r.get("state", "")))
                     for r in rollouts["rollouts"]),
}
print(json.dumps(out, sort_keys=True))'
}
# run NAME [bg]: one feed run in $T/NAME (output $T/NAME/runN.out)
runs=0
run() {
  local d=$T/$1
  runs=$((runs + 1))
  (cd "$d" && exec "$feed" run --config feed.toml) > "$d/run$runs.out" 2>&1 &
  feed_pid=$!
}
finish() {  # finish NAME EXPECTED_EXIT
  local rc=0
  wait "$feed_pid" || rc=$?
  feed_pid=""
  sed 's/^/    | /' "$T/$1/run$runs.out"
  [ "$rc" = "$2" ] || fail "$1: noreboot-feed run exited $rc, expected $2"
}
children() { ps -eo pid=,ppid= | awk -v p="$1" '$2 == p {print $1}'; }
descendants() {  # every process under the PIDs given (and they), from ps's parent links
  local p
  for p in "$@"; do
    echo "$p"
    descendants $(children "$p")
  done
}

# 1. The reference: never killed.
setup ref
run ref; finish ref 0
ref_state=$(end_state ref)
ok "reference run: $ref_state"

# 2. Killed mid-build.
setup killed
k=$T/killed
run killed
for _ in $(seq 600); do
  [ -s "$k/data/versions/$new_v/build.log" ] && [ -n "$(children "$feed_pid")" ] && break
  kill -0 "$feed_pid" 2>/dev/null || fail "the feed ended before it built"
  sleep 0.5
done
sleep 10   # compiling
mapfile -t tree < <(descendants $(children "$feed_pid"))
[ ${#tree[@]} -gt 0 ] || fail "no builder under the feed"
echo "   SIGKILL to the feed (pid $feed_pid) while its builder runs (pids ${tree[*]})"
kill -KILL "$feed_pid"
finish killed 137
# The builder itself must die at once (parent-death signal). Its compilers do not get that
# signal (docs/feed.md, "Not yet"): reported, and waited for so they do not outlive the test.
builder=${tree[0]}
for _ in $(seq 60); do kill -0 "$builder" 2>/dev/null || break; sleep 1; done
! kill -0 "$builder" 2>/dev/null || fail "the builder (pid $builder) still runs 60 s after the feed was killed"
alive=()
for p in "${tree[@]:1}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
[ ${#alive[@]} = 0 ] || echo "   NOTE: the killed builder's compilers still run (pids ${alive[*]}): known gap, waiting for them"
for p in "${alive[@]+"${alive[@]}"}"; do
  for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
done
[ "$(jq -r '.versions[0].steps | join(",")' "$k/data/state.json")" = derived ] || fail "after the kill mid-build the steps are $(jq -c '.versions[0].steps' "$k/data/state.json")"
[ ! -e "$k/data/versions/$new_v/out" ] || fail "a build killed midway left an out/ folder"
[ "$(api killed /v1/bundles | jq '.bundles | length')" = 0 ] || fail "something was published by a killed build"
ok "killed mid-build: the builder died with the feed, the fix stays derived, nothing published"

# 3. Killed mid-publish, after the first bundle's upload.
touch "$k/kill-in-publish"
run killed; finish killed 137
grep -q "uploaded .* alone; SIGKILL" "$k/data/versions/$new_v/publish.log" || fail "the admin wrapper did not kill the feed mid-publish"
[ "$(api killed /v1/bundles | jq '.bundles | length')" = 1 ] || fail "expected exactly the first bundle on the server"
[ "$(api killed /v1/fixes | jq '.fixes | length')" = 0 ] || fail "a fix record was published without all its bundles"
[ "$(api killed /v1/rollouts | jq '.rollouts | length')" = 0 ] || fail "a rollout was created for a half-published fix"
jq -e '.versions[0].steps | index("built") and (index("published") | not)' "$k/data/state.json" > /dev/null ||
  fail "after the kill mid-publish the steps are $(jq -c '.versions[0].steps' "$k/data/state.json")"
ok "killed mid-publish: one bundle on the server, no fix record, no rollout; the state says built, not published"

# 4. The rerun resumes and ends where the reference ended.
run killed; finish killed 0
grep -q 'resuming after' "$k/run$runs.out" || fail "the rerun does not say it resumes"
n=$(cat "$k"/run*.out | grep -c ': building for ' || true)
[ "$n" = 2 ] || fail "the fix was built $n times over the runs (expected 2: the killed build and its one rerun)"
killed_state=$(end_state killed)
[ "$killed_state" = "$ref_state" ] || fail "the end state after the kills differs from the unkilled run's:
  reference: $ref_state
  killed:    $killed_state"
run killed; finish killed 0
grep -q 'nothing new' "$k/run$runs.out" || fail "a further run found something to do"
[ "$(end_state killed)" = "$ref_state" ] || fail "a further run changed the server"
ok "the rerun resumed and ends as the unkilled run: $killed_state"
echo PASS
