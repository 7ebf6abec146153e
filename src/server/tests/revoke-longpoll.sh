#!/usr/bin/env bash
# A revoked host's parked long poll is dropped at once (issue 17 item 3): a host parks
# POST /v1/checkin?wait=300, an administrator revokes it (DELETE /v1/hosts/{id}), and the
# parked check-in is answered 401 within seconds, not "nothing" (or an offer) at its deadline.
# Its next check-in is refused as well.
#   usage: revoke-longpoll.sh PATH/TO/noreboot-server
set -euo pipefail
server=${1:?usage: revoke-longpoll.sh PATH/TO/noreboot-server}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"
testlib_workdir nr-revoke-poll

start_server "$server" --data "$work/data"
wait_for 60 "the server to answer /healthz" curl -sf "$url/healthz"
auth=(-H "Authorization: Bearer $(cat "$work/data/admin.token")" -H "Content-Type: application/json")
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
enroll=$(curl -sf "${auth[@]}" -X POST "$url/v1/tokens/enrollment" -d '{"group":"web","ttl_seconds":600,"max_uses":1}' | json token)
kernel='{"release":"6.1.0-56-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1","build_id":"00112233445566778899aabbccddeeff00112233","arch":"x86_64"}'
curl -sf -X POST "$url/v1/enroll" -H "Content-Type: application/json" \
  -d '{"token":"'"$enroll"'","hostname":"revoked-1","kernel":'"$kernel"'}' >"$work/enrolled"
host=$(json host_id <"$work/enrolled")
cred=$(json credential <"$work/enrolled")
checkin=(-H "Authorization: Bearer $cred" -H "Content-Type: application/json" -X POST
         -d '{"kernel":'"$kernel"',"state":"idle","agent_version":"test"}')

curl -s -o "$work/poll.body" -w '%{http_code}' -m 330 "${checkin[@]}" "$url/v1/checkin?wait=300" >"$work/poll.code" &
poll=$!
on_exit 'kill "$poll" 2>/dev/null || true'
parked() { curl -sf "$url/metrics" | grep -q '^noreboot_longpoll_waiting 1$'; }
wait_for 60 "the check-in to park" parked
pass "host $host parked a 300 s long poll"

curl -sf "${auth[@]}" -X DELETE "$url/v1/hosts/$host" >/dev/null || fail "DELETE /v1/hosts/$host failed"
t0=$SECONDS
wait_for 60 "the parked check-in to be answered after the revoke" test -s "$work/poll.code"
wait "$poll" || true
code=$(cat "$work/poll.code")
[ "$code" = 401 ] || fail "the parked check-in was answered $code after the revoke (want 401): $(cat "$work/poll.body")"
grep -q "revoked" "$work/poll.body" || fail "the 401 does not say the credential was revoked: $(cat "$work/poll.body")"
pass "the parked check-in got 401 $((SECONDS - t0)) s after the revoke: $(cat "$work/poll.body")"
parked && fail "the revoked host still has a parked poll"
code=$(curl -s -o /dev/null -w '%{http_code}' "${checkin[@]}" "$url/v1/checkin")
[ "$code" = 401 ] || fail "a check-in after the revoke answered $code (want 401)"
pass "the next check-in is refused (401)"
stop_server
echo PASS
