#!/usr/bin/env bash
# vm tier: Debian's November 2026 kernel security updates, replayed from the real archive by
# the real noreboot-feed, onto a fleet of real agents (issue 14's "Shows").
#
#   november-replay.sh BUILD_DIR
#
# Nothing names an ABI: the kernels are the three newest that Debian's archive serves with
# everything a build needs (kernel-fetch --list; on 3 Dec 2026 6.1.0-55/-56/-57 = 6.1.192-1/-2/-3),
# called OLD, MID and NEW here. The feed starts "processed up to" OLD's version, so it sees the
# two versions after it as new: MID (ext4 mballoc, on 3 Dec) and NEW (nfsd, CVE-2026-99362).
#
# The fleet, enrolled with a real noreboot-server on 127.0.0.1 (SQLite) before the feed runs:
#   - two VM hosts, Debian's OLD and MID kernels booted once each in QEMU with the product's
#     runner (scripts/noreboot-vm), running the real agent (tests/feed/replay-guest.sh);
#   - two real agents on fake kernels (noreboot-fake-kernel) with NEW's identity (its release,
#     /proc/version and the build ID of its vmlinux): hosts already running the fixed kernel.
# Then one real `noreboot-feed run`: scripts/debian-fix derives both fixes, noreboot-build builds
# them for the fleet's kernels (the second on top of the first), scripts/noreboot-vm smoke-tests
# every bundle in QEMU, noreboot-admin publishes, and the feed starts a staged rollout per fix
# (two short stages: 50 % soaking 15 s, then 100 %). The test asserts:
#   - the feed exits 0 and its state has both versions done, with one fix each;
#   - both fixes reach "patched" on both VM hosts, without a reboot: each guest's boot id is the
#     one it came up with, and /sys/kernel/livepatch shows the newest patch enabled, its
#     transition over (the OLD host runs the cumulative patch, the MID host the second fix);
#   - every fix record shows NEW as already fixed, and GET /v1/fixes shows each fix's exposure
#     above zero once published, then zero (a background poll of GET /v1/fixes, every 2 s);
#   - a second feed run finds nothing new and does nothing: no bundle, record or rollout more.
# The feed's output (each line with its time), the exposure poll and the server's log are kept
# in NOREBOOT_REPLAY_LOGS when that is set (bench/feed_bench.sh reads them).
. "$(dirname "$0")/lib.sh" "${1:-}" nr-replay   # testlib, the binaries, $T, ok, py, three_newest_kernels, feed_tools
server_pid="" poll_pid="" vm_pids=() fake_pids=()
stop_all() {
  local p
  for p in "${fake_pids[@]+"${fake_pids[@]}"}" $poll_pid; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for p in "${vm_pids[@]+"${vm_pids[@]}"}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ -n "${NOREBOOT_REPLAY_LOGS:-}" ]; then
    mkdir -p "$NOREBOOT_REPLAY_LOGS"
    cp "$T"/feed-run*.log "$T"/exposure.log "$T"/server.log "$T"/vm-*.out "$T"/timeline.log "$NOREBOOT_REPLAY_LOGS"/ 2>/dev/null || true
    cp -r "$T/feed/versions" "$NOREBOOT_REPLAY_LOGS"/ 2>/dev/null || true
  fi
}
on_exit stop_all
TESTLIB_LOGS=("$T/server.log" "$T/vm-*.out" "$T/vm-*.err" "$T/fake-*/agent.log") TESTLIB_LOG_LINES=25
mark() { printf '%s %s\n' "$(date +%s)" "$*" >> "$T/timeline.log"; }
vms_alive() { local p; for p in "${vm_pids[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done; }
# wait_hosts SECONDS WHAT COMMAND...: polls every 2 s; the VM hosts must stay up meanwhile
wait_hosts() {
  local s=$1 what=$2; shift 2
  local end=$((SECONDS + s))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || fail "$what (waited $s s)"
    vms_alive || fail "a VM host stopped early ($what)"
    sleep 2
  done
}

# --- kernels ----------------------------------------------------------------------------------
three_newest_kernels
echo "kernels: OLD $old_abi ($old_v), MID $mid_abi ($mid_v), NEW $new_abi ($new_v)"
new_vars=$("$repo/scripts/kernel-fetch" --abi "$new_abi" --quiet)
new_vmlinux=$(eval "$new_vars"; echo "$NR_VMLINUX")
new_build_id=$(readelf -n "$new_vmlinux" | awk '/Build ID:/ {print $3; exit}')
[ -n "$new_build_id" ] || fail "no build ID in $new_vmlinux"
ok "kernel profiles ready; $new_abi's build ID $new_build_id"

# --- server -----------------------------------------------------------------------------------
"$admin" keygen "$T/publisher" > /dev/null
port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$server" --listen "127.0.0.1:$port" --data "$T/server" --trust "$T/publisher.pub" --log-format text > "$T/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do curl -fs "$url/healthz" > /dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$url/healthz" > /dev/null || fail "the server did not come up"
export NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN
NOREBOOT_ADMIN_TOKEN=$(cat "$T/server/admin.token")
cp "$T/server/admin.token" "$T/admin.token"
"$admin" token create-admin --role read --name feed-read > "$T/read.token" 2> /dev/null
api() { curl -fsS -H "Authorization: Bearer $NOREBOOT_ADMIN_TOKEN" "$url$1"; }
"$admin" token create-enrollment --group replay --ttl 7200 --max-uses 4 --json |
  py 'import json,sys; print(json.load(sys.stdin)["token"])' > "$T/enroll.token"
ok "server on $url (pid $server_pid), read and enrollment tokens made"

# --- the fleet: two VM hosts (OLD, MID), two fake-kernel agents (NEW) ---------------------------
cat > "$T/agent.toml" <<TOML
server = "http://10.0.2.100:$port"
trusted_keys = ["$T/publisher.pub"]
state_dir = "/var/lib/noreboot"
[checkin]
interval_seconds = 5
jitter_seconds = 1
long_poll_seconds = 30
TOML
for abi in "$old_abi" "$mid_abi"; do
  "$repo/scripts/noreboot-vm" --abi "$abi" --smp 1 --mem 1024 --net "$port" --share "$T" --share "$B" \
    --share "$here" --timeout 2400 -- sh "$here/replay-guest.sh" "$T" "$agent" "vm-$abi" \
    > "$T/vm-$abi.out" 2> "$T/vm-$abi.err" &
  vm_pids+=($!)
done
mark "vm hosts booting"
for i in 1 2; do
  R=$T/fake-$i
  "$fake" create "$R" --boot-id "replay-fake-$i" --release "$new_abi" --build-id "$new_build_id" \
    --version "Linux version $new_abi (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian $new_v (2026-11-26)"
  mkdir -p "$R/etc/noreboot"
  cat > "$R/etc/noreboot/agent.toml" <<TOML
server = "$url"
trusted_keys = ["$T/publisher.pub"]
[checkin]
interval_seconds = 5
jitter_seconds = 1
long_poll_seconds = 30
TOML
  "$agent" --root "$R" enroll --token "$(cat "$T/enroll.token")" --hostname "fake-$i" > /dev/null
  NOREBOOT_FORBID_REAL_KERNEL=1 "$agent" --root "$R" agent > "$R/agent.log" 2>&1 &
  fake_pids+=($!)
done
fleet_has() {  # fleet_has RELEASE...: every release has a host that checked in
  api /v1/fleet > "$T/fleet.json" || return 1
  py "import json,sys
d = json.load(open('$T/fleet.json'))
have = {k['release'] for k in d.get('by_kernel', [])}
sys.exit(0 if set(sys.argv[1:]) <= have else 1)" "$@"
}
wait_hosts 600 "the VM hosts ($old_abi, $mid_abi) and the fake hosts did not all check in" \
  fleet_has "$old_abi" "$mid_abi" "$new_abi"
mark "fleet enrolled"
ok "fleet enrolled: VM hosts on $old_abi and $mid_abi, 2 fake-kernel agents on $new_abi"

# --- the feed ---------------------------------------------------------------------------------
mkdir -p "$T/feed"
cat > "$T/feed.toml" <<TOML
server = "$url"
read_token_file = "read.token"
admin_token_file = "admin.token"
publisher_key = "publisher.key"
data_dir = "feed"
series = "$(echo "$new_v" | cut -d. -f1-2)"
start_after = "$old_v"
approve = "auto"
max_files = 50
test = true
vm_timeout = 900

[[stages]]
percent = 50
soak_seconds = 15
failure_budget = 0
[[stages]]
percent = 100
failure_budget = 0

TOML
feed_tools "$admin" >> "$T/feed.toml"
# The exposure of every fix, every 2 s: "TIME FIX exposed=N patched=N already_fixed=N".
(
  while :; do
    now=$(date +%s)
    api /v1/fixes 2> /dev/null | py "import json,sys
for f in json.load(sys.stdin)['fixes']:
    h = f['hosts']
    print('$now', f['id'], ' '.join('%s=%d' % (g, h[g]['count']) for g in ('exposed', 'patched', 'already_fixed', 'not_built', 'not_covered')))" \
      >> "$T/exposure.log" 2> /dev/null || true
    sleep 2
  done
) &
poll_pid=$!

run_feed() {  # run_feed LOG: one feed run, each output line with its time (epoch seconds)
  local rc
  set +e
  "$feed" run --config "$T/feed.toml" 2>&1 | while IFS= read -r l; do printf '%(%s)T %s\n' -1 "$l"; done > "$T/$1"
  rc=${PIPESTATUS[0]}
  set -e
  sed 's/^/    | /' "$T/$1"
  return "$rc"
}
mark "feed run 1 start"
rc=0; run_feed feed-run1.log || rc=$?
mark "feed run 1 end"
[ "$rc" = 0 ] || fail "noreboot-feed run exited $rc"
st=$T/feed/state.json
[ "$(jq -r .processed_up_to "$st")" = "$new_v" ] || fail "processed_up_to is $(jq -r .processed_up_to "$st"), expected $new_v"
for v in "$mid_v" "$new_v"; do
  [ "$(jq -r --arg v "$v" '.versions[] | select(.version == $v) | .status' "$st")" = done ] ||
    fail "$v is not done in the feed's state: $(jq -c --arg v "$v" '.versions[] | select(.version == $v)' "$st")"
done
fix1=$(jq -r --arg v "$mid_v" '.versions[] | select(.version == $v) | .fixes[0].id' "$st")
fix2=$(jq -r --arg v "$new_v" '.versions[] | select(.version == $v) | .fixes[0].id' "$st")
[ -n "$fix1" ] && [ "$fix1" != null ] && [ -n "$fix2" ] && [ "$fix2" != null ] || fail "the feed recorded no fix ids"
ok "feed run 1 exited 0 in $(( $(tail -1 "$T/feed-run1.log" | cut -d' ' -f1) - $(head -1 "$T/feed-run1.log" | cut -d' ' -f1) )) s: $mid_v -> $fix1, $new_v -> $fix2"
for k in "$old_abi" "$mid_abi"; do
  [ "$(jq -r --arg v "$new_v" --arg k "$k" '.versions[] | select(.version == $v) | .tests[$k]' "$st")" = passed ] ||
    fail "$fix2's QEMU smoke test on $k did not pass: $(jq -c --arg v "$new_v" '.versions[] | select(.version == $v) | .tests' "$st")"
done
[ "$(jq -r --arg v "$mid_v" --arg k "$old_abi" '.versions[] | select(.version == $v) | .tests[$k]' "$st")" = passed ] ||
  fail "$fix1's QEMU smoke test on $old_abi did not pass"
ok "every bundle passed its QEMU smoke test before it was published"

# --- the fleet gets patched ---------------------------------------------------------------------
# fix1 (MID's fix): built for OLD only; MID and NEW already have it. fix2 (NEW's fix): built for
# OLD (cumulative, on top of fix1) and MID; NEW already has it.
exposure_is() {  # exposure_is FIX EXPOSED PATCHED ALREADY_FIXED
  api "/v1/fixes/$1" > "$T/fix.json" || return 1
  [ "$(jq -c '[.hosts.exposed.count, .hosts.patched.count, .hosts.already_fixed.count]' "$T/fix.json")" = "[$2,$3,$4]" ]
}
patched() { exposure_is "$fix1" 0 1 3 && exposure_is "$fix2" 0 2 2; }
wait_hosts 900 "the fleet did not reach patched for $fix1 (1 patched, 3 already fixed) and $fix2 (2 patched, 2 already fixed): $(cat "$T/fix.json" 2>/dev/null)" patched
mark "fleet patched"
ok "GET /v1/fixes: $fix1 0 exposed, 1 patched, 3 already fixed; $fix2 0 exposed, 2 patched, 2 already fixed"
for f in "$fix1" "$fix2"; do
  api "/v1/fixes/$f" > "$T/fix.json"
  [ "$(jq -r --arg k "$new_abi" '.kernels[] | select(.release == $k) | .outcome' "$T/fix.json")" = already_fixed ] ||
    fail "$f's record does not show $new_abi as already fixed: $(jq -c .kernels "$T/fix.json")"
  # Exposure went from above zero (published, not yet applied) to zero.
  max=$(awk -v f="$f" '$2 == f { split($3, a, "="); if (a[2] > m) m = a[2] } END { print m + 0 }' "$T/exposure.log")
  [ "$max" -gt 0 ] || fail "the poll never saw $f exposed on any host (exposure.log: $(grep -c . "$T/exposure.log") lines)"
  echo "   $f: exposure up to $max host(s) after publishing, now 0"
done
ok "both fix records show $new_abi as already fixed; exposure went to zero"

# --- the VM hosts: patched without a reboot ---------------------------------------------------------
touch "$T/fleet.done"
for i in "${!vm_pids[@]}"; do
  rc=0; wait "${vm_pids[$i]}" || rc=$?
  [ "$rc" = 0 ] || fail "VM host $i exited $rc"
done
vm_pids=()
name_of() { tar -xOf "$1" manifest.json | jq -r .name; }
out2=$T/feed/versions/$new_v/out
for abi in "$old_abi" "$mid_abi"; do
  o=$T/vm-$abi.out
  grep -q '^replay-guest: done$' "$o" || fail "the VM host on $abi did not finish its report"
  b0=$(awk '$1 == "boot_id_start" {print $2}' "$o") b1=$(awk '$1 == "boot_id_end" {print $2}' "$o")
  [ -n "$b0" ] && [ "$b0" = "$b1" ] || fail "$abi: the boot id changed ($b0 -> $b1): the host rebooted"
  want=$(name_of "$out2/$abi.nrp")
  grep -q "^livepatch $want enabled=1 transition=0$" "$o" ||
    fail "$abi: /sys/kernel/livepatch does not show $want enabled: $(grep '^livepatch' "$o" || echo none)"
  [ "$(grep -c '^livepatch ' "$o")" = 1 ] || fail "$abi: more than one livepatch is loaded: $(grep '^livepatch' "$o")"
  echo "   $abi: $want enabled, boot id $b0 unchanged, up $(awk '$1 == "uptime_end" {print $2}' "$o") s"
done
ok "both VM hosts run their kernel's newest patch, enabled, without a reboot"

# --- a second run finds nothing new and does nothing ---------------------------------------------
before=$(api /v1/bundles | jq '.bundles | length')/$(api /v1/rollouts | jq '.rollouts | length')/$(api /v1/fixes | jq '.fixes | length')
versions_before=$(jq -c .versions "$st")
mark "feed run 2 start"
rc=0; run_feed feed-run2.log || rc=$?
mark "feed run 2 end"
[ "$rc" = 0 ] || fail "the second feed run exited $rc"
grep -q 'nothing new' "$T/feed-run2.log" || fail "the second run does not say 'nothing new'"
after=$(api /v1/bundles | jq '.bundles | length')/$(api /v1/rollouts | jq '.rollouts | length')/$(api /v1/fixes | jq '.fixes | length')
[ "$before" = "$after" ] || fail "the second run changed the server (bundles/rollouts/fixes $before -> $after)"
[ "$(jq -c .versions "$st")" = "$versions_before" ] || fail "the second run changed the versions in the feed's state"
ok "a second run finds nothing new and changes nothing (bundles/rollouts/fixes $after)"
echo PASS
