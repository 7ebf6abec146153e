#!/usr/bin/env bash
# shell tier: noreboot-feed against faults, with stand-ins for the programs it drives
# (tests/standins: apt-cache, kernel-fetch --list, debian-fix, noreboot-build, noreboot-vm,
# noreboot-admin publish) and for the server (fake_server.py: fleet, bundles, rollouts).
# The real parts: noreboot-feed, its state, lock, resume logic, fix-record re-signing (with a
# key from the real noreboot-admin keygen) and its HTTP client.
#
# One data folder through a sequence of runs over a fake archive serving 6.1.190-1 ->
# 6.1.192-1 (a stable update) -> 6.1.192-2 (ext4 fix, no CVE) -> 6.1.192-3 (CVE-2026-99362):
#   bad config (exit 2, the key named); archive unreachable (exit 1); a truncated source
#   package (exit 1; the stable update before it is recorded as "needs a fix patch");
#   server down (exit 1 at the fleet query, the derived fix kept); killed mid-build (the
#   builder dies with it, nothing published); killed mid-publish (bundles up, no record);
#   then a run that resumes both without redoing finished steps, one kernel failing its
#   build and one its QEMU test (refused in the re-signed record, its bundle not published),
#   rollouts created once per fix; a run with nothing new; a second run while one holds the
#   lock; killed mid-test (the rerun tests only the kernels not tested yet); approve = "manual"
#   (the rollout created awaiting approval); every step in the server's audit log, and a run
#   that goes on when only the audit writes fail; the inbox: per-CVE patches for the stable update
#   (one taken, built, tested with its check script, published; bad files rejected once, a patch
#   that applies nowhere rejected after its build, nothing published for it).
# Usage: feed_faults.sh NOREBOOT_FEED NOREBOOT_ADMIN
set -euo pipefail
feed=$1 admin=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../tests/lib/testlib.sh"   # fail, pass, the work folder removed at exit
testlib_workdir nr-feed-faults
T=$work
fake_pid="" bg_pid="" lock_pid=""
stop_all() {
  for p in $fake_pid $bg_pid $lock_pid; do kill "$p" 2>/dev/null || true; done
  for f in "$T/calls/build.pid" "$T/calls/publish.pid" "$T/calls/vm.pid"; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
}
on_exit stop_all
export FEED_T=$T PATH=$here/standins:$PATH
mkdir -p "$T/archive" "$T/faults" "$T/calls" "$T/srv" "$T/data"
D=$T/data

# The archive: versions unsorted on purpose (the feed orders them like dpkg).
printf '%s\n' 6.1.192-2 6.1.190-1 6.1.192-3 6.1.192-1 > "$T/archive/versions"
cat > "$T/archive/kernels" <<'K'
6.1.0-54-amd64 6.1.190-1 complete
6.1.0-55-amd64 6.1.192-1 complete
6.1.0-56-amd64 6.1.192-2 complete
6.1.0-57-amd64 6.1.192-3 complete
K
cat > "$T/archive/stable-6.1.192-1" <<'C'
linux (6.1.192-1) bookworm-security; urgency=high

  * New upstream stable update:
    - ext4: fix a race in the block allocator (CVE-2026-1001)
    - net: sched: plug a leak (CVE-2026-1002)

 -- Debian Kernel Team <debian-kernel@lists.debian.org>  Mon, 02 Nov 2026 10:00:00 +0100
C
printf '  * ext4: fix NULL folio dereference in mballoc\n' > "$T/archive/changelog-6.1.192-2"
printf '  * nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362)\n' > "$T/archive/changelog-6.1.192-3"
echo '{"hosts": 4, "by_kernel": [{"release": "6.1.0-54-amd64", "hosts": 1}, {"release": "6.1.0-55-amd64", "hosts": 1}, {"release": "6.1.0-56-amd64", "hosts": 2}]}' > "$T/srv/fleet.json"
echo nra_feedtest > "$T/srv/token"
"$admin" keygen "$T/publisher" > /dev/null

start_fake_server() {
  rm -f "$T/srv/port"
  python3 "$here/fake_server.py" "$T/srv" "${1:-0}" & fake_pid=$!
  for _ in $(seq 100); do [ -s "$T/srv/port" ] && break; sleep 0.2; done
  [ -s "$T/srv/port" ] || fail "the fake server did not start"
}
start_fake_server
port=$(cat "$T/srv/port")

write_config() {  # write_config [approve]
  cat > "$T/feed.toml" <<C
server = "http://127.0.0.1:$port"
read_token_file = "srv/token"
admin_token_file = "srv/token"
publisher_key = "publisher.key"
data_dir = "data"
start_after = "6.1.190-1"
approve = "${1:-auto}"
kernels = ["6.1.0-*-amd64"]
[tools]
debian_fix = "debian-fix"
build = "noreboot-build"
admin = "noreboot-admin"
vm = "noreboot-vm"
kernel_fetch = "kernel-fetch"
C
}
write_config
run() {  # run EXPECTED_EXIT: one feed run, output in $T/out
  local rc=0
  "$feed" run --config "$T/feed.toml" > "$T/out" 2>&1 || rc=$?
  sed 's/^/    | /' "$T/out"
  [ "$rc" = "$1" ] || fail "noreboot-feed run exited $rc, expected $1"
}
expect_out() { grep -q -- "$1" "$T/out" || fail "the output does not say '$1'"; }
jstate() { jq -r "$1" "$D/state.json"; }

# 1. A configuration mistake is named, and nothing runs.
printf 'server = "http://127.0.0.1:1"\nadmin_token_file = "t"\npublisher_key = "k"\ndata_dir = "d"\napprove = "sometimes"\n' > "$T/bad.toml"
rc=0; "$feed" run --config "$T/bad.toml" > "$T/out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "'approve' must be \"auto\" or \"manual\"" "$T/out" || { cat "$T/out"; fail "bad config: exit $rc"; }
[ ! -e "$T/d" ] || fail "a bad config created the data folder"
pass "a bad config is refused with the key named (exit 2)"

# 2. The archive is unreachable.
touch "$T/faults/archive-down"
run 1
expect_out "apt-get update"
grep -q '^noreboot_feed_last_run_success 0$' "$D/noreboot_feed.prom" || fail "metrics do not show the failed run"
rm "$T/faults/archive-down"
pass "archive unreachable: exit 1, says what to do, metrics show the failure"

# 3. The stable update is recorded with its CVEs; the next version's source is truncated.
touch "$T/faults/truncated-6.1.192-2"
run 1
expect_out "could not compare"
[ "$(jstate '.processed_up_to')" = 6.1.192-1 ] || fail "processed_up_to is $(jstate .processed_up_to)"
[ "$(jstate '.versions[0].status')" = needs_fix_patch ] || fail "6.1.192-1 is not 'needs_fix_patch'"
[ "$(jstate '.versions[0].cves | join(" ")')" = "CVE-2026-1001 CVE-2026-1002" ] || fail "the stable update's CVEs: $(jstate '.versions[0].cves')"
[ "$(jstate '.versions[1].status')" = failed ] && [ "$(jstate '.versions[1].steps | length')" = 0 ] || fail "6.1.192-2 after the truncated source"
[ ! -e "$T/calls/build" ] || fail "something was built"
rm "$T/faults/truncated-6.1.192-2"
pass "stable update recorded as 'needs a fix patch' with its CVEs; truncated source stops the run before anything is built"

# 4. The server is down: the fix is derived, the fleet query fails, the derived step is kept.
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=""
run 1
expect_out "127.0.0.1:$port"
[ "$(jstate '.versions[1].steps | join(",")')" = derived ] || fail "steps after server down: $(jstate '.versions[1].steps')"
[ "$(jstate '.versions[1].fixes[0].id')" = DEBIAN-6.1.192-2 ] || fail "fix id $(jstate '.versions[1].fixes[0].id')"
start_fake_server "$port"
pass "server down: exit 1 naming the server; the derived fix is kept"

# 5. Killed mid-build: the builder dies with the feed; nothing is recorded or published.
touch "$T/faults/build-hang"
"$feed" run --config "$T/feed.toml" > "$T/out.bg" 2>&1 & bg_pid=$!
for _ in $(seq 150); do [ -s "$T/calls/build.pid" ] && break; sleep 0.2; done
[ -s "$T/calls/build.pid" ] || { cat "$T/out.bg"; fail "the build did not start"; }
kill -9 "$bg_pid"; wait "$bg_pid" 2>/dev/null || true; bg_pid=""
for _ in $(seq 50); do kill -0 "$(cat "$T/calls/build.pid")" 2>/dev/null || break; sleep 0.2; done
! kill -0 "$(cat "$T/calls/build.pid")" 2>/dev/null || fail "the builder outlived the killed feed"
rm "$T/calls/build.pid" "$T/faults/build-hang"
[ ! -e "$D/versions/6.1.192-2/out" ] || fail "a killed build left an output folder"
[ ! -e "$T/published" ] || fail "something was published"
[ "$(jstate '.versions[1].steps | join(",")')" = derived ] || fail "steps after the kill: $(jstate '.versions[1].steps')"
pass "killed mid-build: the builder died with it, nothing recorded as built, nothing published"

# 6. Killed mid-publish: the bundles are up, the record is not.
touch "$T/faults/publish-hang"
"$feed" run --config "$T/feed.toml" > "$T/out.bg" 2>&1 & bg_pid=$!
for _ in $(seq 150); do [ -s "$T/calls/publish.pid" ] && break; sleep 0.2; done
[ -s "$T/calls/publish.pid" ] || { cat "$T/out.bg"; fail "publishing did not start"; }
kill -9 "$bg_pid"; wait "$bg_pid" 2>/dev/null || true; bg_pid=""
rm "$T/faults/publish-hang"
sed 's/^/    | /' "$T/out.bg"
[ "$(grep -c '6.1.192-1 6.1.192-2' "$T/calls/debian-fix")" = 2 ] || fail "the fix was derived again after it was recorded"
[ "$(jstate '.versions[1].steps | join(",")')" = derived,built,tested ] || fail "steps after the publish kill: $(jstate '.versions[1].steps')"
[ ! -e "$T/published/DEBIAN-6.1.192-2.fix.json" ] || fail "the record was published by a killed publish"
pass "killed mid-publish: built and tested recorded, record not published"

# 7. Resume: publish 6.1.192-2 again, then 6.1.192-3 with a build failing on 6.1.0-54 and the
#    QEMU test failing on 6.1.0-56.
touch "$T/faults/build-fail-6.1.0-54-amd64" "$T/faults/vm-fail-6.1.0-56-amd64"
run 0
[ -e "$T/published/DEBIAN-6.1.192-2.fix.json" ] && [ -e "$T/published/CVE-2026-99362.fix.json" ] || fail "records not published"
[ "$(jstate '.processed_up_to')" = 6.1.192-3 ] || fail "processed_up_to $(jstate .processed_up_to)"
[ "$(grep -c ' .*6.1.192-2/' "$T/calls/vm")" = 2 ] || { cat "$T/calls/vm"; fail "6.1.192-2's bundles were tested again"; }
r2=$D/versions/6.1.192-2/out/fix.json r3=$D/versions/6.1.192-3/out/fix.json
[ "$(jq -r '[.kernels[] | .release + "=" + .outcome] | join(" ")' "$r2")" = "6.1.0-54-amd64=built 6.1.0-55-amd64=built 6.1.0-56-amd64=already_fixed" ] || fail "6.1.192-2: $(jq -c .kernels "$r2")"
[ "$(jq -r '[.kernels[] | .release + "=" + .outcome] | join(" ")' "$r3")" = "6.1.0-54-amd64=failed 6.1.0-55-amd64=built 6.1.0-56-amd64=refused 6.1.0-57-amd64=already_fixed" ] || fail "6.1.192-3: $(jq -c .kernels "$r3")"
jq -r '.kernels[] | select(.release == "6.1.0-56-amd64") | .reason' "$r3" | grep -q "QEMU smoke test" || fail "the refused kernel's reason does not name the test"
grep -q '^noreboot-ed25519-signature-v1 ' "$D/versions/6.1.192-3/out/fix.sig" || fail "the amended record was not re-signed"
[ ! -e "$D/versions/6.1.192-3/out/6.1.0-56-amd64.nrp" ] || fail "the bundle that failed its test is still there"
! grep -q '"6.1.0-56-amd64"' "$T/srv/bundles.jsonl" || fail "a bundle for 6.1.0-56 was published"
sha55=$(jq -r '.kernels[] | select(.release == "6.1.0-55-amd64") | .bundle.sha256' "$r2")
grep '6.1.0-55-amd64' "$T/calls/build" | tail -1 | grep -q "on-top-of: .*$D/bundles/$sha55.nrp" || { cat "$T/calls/build"; fail "6.1.192-3 was not built on top of 6.1.192-2's bundle"; }
[ "$(jq -r '[.[].fix] | join(" ")' "$T/srv/rollouts.json")" = "DEBIAN-6.1.192-2 CVE-2026-99362" ] || fail "rollouts: $(cat "$T/srv/rollouts.json")"
[ "$(jq '.[0].stages | length' "$T/srv/rollouts.json")" = 3 ] || fail "rollout stages"
grep -q '^noreboot_feed_fixes_published_total 2$' "$D/noreboot_feed.prom" || fail "metrics: $(cat "$D/noreboot_feed.prom")"
grep -q '^noreboot_feed_last_run_success 1$' "$D/noreboot_feed.prom" || fail "metrics: last run"
"$feed" status --config "$T/feed.toml" > "$T/status"
grep -q "needs a fix patch: CVE-2026-1002" "$T/status" && grep -q "test 6.1.0-56-amd64: failed" "$T/status" || { cat "$T/status"; fail "status"; }
rm "$T/faults/build-fail-6.1.0-54-amd64" "$T/faults/vm-fail-6.1.0-56-amd64"
audit() { jq -r "select(.detail.version == \"$1\") | .action + \" \" + (.detail.kernel // .detail.fix // \"\") + \" \" + (.detail.result // \"\")" "$T/srv/audit.jsonl" | sed 's/ *$//'; }
for want in "feed.found_version" "feed.derived" "feed.built" "feed.tested 6.1.0-55-amd64 passed" "feed.tested 6.1.0-56-amd64 failed" \
            "feed.published" "feed.rollout_created CVE-2026-99362"; do
  audit 6.1.192-3 | grep -qx -- "$want" || { audit 6.1.192-3; fail "the audit log lacks '$want' for 6.1.192-3"; }
done
jq -e -s 'any(.[]; .action == "feed.needs_fix_patch" and .detail.cves == ["CVE-2026-1001", "CVE-2026-1002"])' "$T/srv/audit.jsonl" > /dev/null ||
  fail "the audit log lacks the stable update's CVEs"
jq -e -s 'any(.[]; .action == "feed.failed" and .detail.version == "6.1.192-2")' "$T/srv/audit.jsonl" > /dev/null ||
  fail "the audit log lacks the failed run of 6.1.192-2"
pass "resumed: published once, cumulative on the earlier bundle, failed build and failed test recorded, one rollout per fix"

# 8. Nothing new: exit 0, says so, derives nothing, creates nothing.
calls=$(wc -l < "$T/calls/debian-fix")
run 0
expect_out "nothing new"
[ "$(wc -l < "$T/calls/debian-fix")" = "$calls" ] || fail "a run with nothing new derived something"
[ "$(jq length "$T/srv/rollouts.json")" = 2 ] || fail "a run with nothing new created a rollout"
pass "nothing new: exit 0, says so"

# 9. Two runs do not overlap.
( exec 9> "$D/lock"; flock 9; exec sleep 60 ) & lock_pid=$!
for _ in $(seq 50); do ! flock -n "$D/lock" true 2>/dev/null && break; sleep 0.1; done
run 3
expect_out "another noreboot-feed run"
kill "$lock_pid"; wait "$lock_pid" 2>/dev/null || true; lock_pid=""
pass "a second run while one holds the lock: exit 3"

# 10. approve = "manual": published, the rollout created awaiting approval, the approve command
#     printed; the audit log is down all along (the run goes on, the failures are counted).
echo 6.1.192-4 >> "$T/archive/versions"
printf '  * net: fix a leak (CVE-2026-99400)\n' > "$T/archive/changelog-6.1.192-4"
write_config manual
touch "$T/srv/audit-down"
# Killed mid-test: the kernels tested before the kill are not tested again.
touch "$T/faults/vm-hang-6.1.0-55-amd64"
"$feed" run --config "$T/feed.toml" > "$T/out.bg" 2>&1 & bg_pid=$!
for _ in $(seq 150); do [ -s "$T/calls/vm.pid" ] && break; sleep 0.2; done
[ -s "$T/calls/vm.pid" ] || { cat "$T/out.bg"; fail "the QEMU test did not start"; }
kill -9 "$bg_pid"; wait "$bg_pid" 2>/dev/null || true; bg_pid=""
rm "$T/faults/vm-hang-6.1.0-55-amd64" "$T/calls/vm.pid"
[ "$(jq -r '.versions[] | select(.version == "6.1.192-4") | .tests | keys | join(" ")' "$D/state.json")" = 6.1.0-54-amd64 ] ||
  fail "tests recorded before the kill: $(jq -c '.versions[-1].tests' "$D/state.json")"
run 0
[ "$(grep -c '^6.1.0-54-amd64 .*6.1.192-4/' "$T/calls/vm")" = 1 ] || { cat "$T/calls/vm"; fail "6.1.0-54 was tested again after the kill"; }
[ "$(grep -c '^6.1.0-55-amd64 .*6.1.192-4/' "$T/calls/vm")" = 2 ] || { cat "$T/calls/vm"; fail "6.1.0-55 was not tested again after the kill"; }
pass "killed mid-test: the rerun tests only the kernels not tested yet"
expect_out "noreboot-admin fix approve CVE-2026-99400"
[ -e "$T/published/CVE-2026-99400.fix.json" ] || fail "manual approve did not publish"
[ "$(jq -r '.[2] | .fix + " " + (.await_approval | tostring)' "$T/srv/rollouts.json")" = "CVE-2026-99400 true" ] ||
  fail "manual approve: rollouts $(cat "$T/srv/rollouts.json")"
pass "approve = manual: published, the rollout created awaiting approval, the command printed"
expect_out "audit log did not take feed.published"
n=$(sed -n 's/^noreboot_feed_audit_failures_total //p' "$D/noreboot_feed.prom")
[ "${n:-0}" -ge 5 ] || fail "audit failures counted: ${n:-none}"
! grep -q 'CVE-2026-99400\|6.1.192-4' "$T/srv/audit.jsonl" || fail "an audit entry was written while the audit log was down"
rm "$T/srv/audit-down"
pass "audit log down: the run succeeded, each lost entry said and counted ($n)"
# 11. The inbox: per-CVE patches for the stable update 6.1.192-1 (needs a fix patch).
mkdir -p "$D/inbox"
printf -- '--- a/fs/ext4/mballoc.c\n+++ b/fs/ext4/mballoc.c\n@@ -1 +1 @@\n-old\n+new 6.1.192-1\n' > "$D/inbox/CVE-2026-1001.patch"
echo 'echo check ran' > "$D/inbox/CVE-2026-1001.check.sh"
echo 'I could not make a patch for this one' > "$D/inbox/CVE-2026-1002.patch"
cp "$D/inbox/CVE-2026-1001.patch" "$D/inbox/CVE-2026-4242.patch"
run 0
expect_out "inbox: took CVE-2026-1001.patch and CVE-2026-1001.check.sh"
expect_out "rejected CVE-2026-1002.patch: not a patch"
expect_out "rejected CVE-2026-4242.patch: CVE-2026-4242 is not a CVE of a stable update waiting for a fix patch"
r=$T/published/CVE-2026-1001.fix.json
[ -e "$r" ] || fail "the inbox fix was not published"
[ "$(jq -r '.fixes[0].description' "$r")" = "ext4: fix a race in the block allocator" ] || fail "inbox fix description: $(jq -c .fixes "$r")"
[ "$(jq -r '[.kernels[] | .release + "=" + .outcome] | join(" ")' "$r")" = "6.1.0-54-amd64=built 6.1.0-55-amd64=already_fixed 6.1.0-56-amd64=already_fixed" ] ||
  fail "inbox fix record: $(jq -c .kernels "$r")"
grep -q '^6.1.0-54-amd64 .*6.1.192-1+CVE-2026-1001/.* check .*/check.sh$' "$T/calls/vm" || { cat "$T/calls/vm"; fail "the check script was not given to the QEMU test"; }
grep -qx "check ran" "$T/calls/check" || fail "the check script did not run"
[ "$(jq -r '.[-1] | .fix + " " + (.await_approval | tostring)' "$T/srv/rollouts.json")" = "CVE-2026-1001 true" ] || fail "inbox rollout: $(cat "$T/srv/rollouts.json")"
ls "$D/inbox" | grep -qv '^rejected$' && fail "files left in the inbox: $(ls "$D/inbox")"
"$feed" status --config "$T/feed.toml" > "$T/status"
grep -q "needs a fix patch: CVE-2026-1001: ext4: fix a race in the block allocator  \[inbox: done\]" "$T/status" &&
  grep -q "CVE-2026-1002.patch: not a patch" "$T/status" || { cat "$T/status"; fail "status does not show the inbox"; }
pass "inbox: a per-CVE patch built, tested with its check script and published as one fix; bad files rejected with the reason"
run 0
! grep -q "rejected\|inbox" "$T/out" || fail "the inbox was processed again"
printf -- '--- a/net/sched/x.c\n+++ b/net/sched/x.c\n@@ -1 +1 @@\n-old\n+does-not-apply\n+new 6.1.192-1\n' > "$D/inbox/CVE-2026-1002.patch"
run 0
expect_out "rejected CVE-2026-1002.patch: the patch gave no fleet kernel a bundle: 6.1.0-54-amd64 does_not_apply"
[ ! -e "$T/published/CVE-2026-1002.fix.json" ] || fail "a patch that applies nowhere was published"
[ "$(jq -r '.versions[] | select(.inbox_cve == "CVE-2026-1002") | .status' "$D/state.json")" = rejected ] || fail "the item is not rejected"
run 0
! grep -q "CVE-2026-1002" "$T/out" || fail "the rejected patch was built again"
pass "inbox: a patch that applies to no kernel is rejected after its build, nothing published, not retried"
echo PASS
