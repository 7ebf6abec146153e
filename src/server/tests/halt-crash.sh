#!/usr/bin/env bash
# The automatic halt survives a crash between its two writes (ctest: server_halt_crash on
# SQLite, label unit; server_halt_crash_postgres under tests/with-postgres, label store).
#
# The ticker halts a rollout whose failures exceed the budget and blocks its bundle. These
# used to be two statements; a kill between them left the rollout halted and the bundle
# unblocked, and a group pinned to that bundle was offered it after the restart. The server
# here runs with the failpoint store.halt.between_writes (core/failpoint.h; compiled into
# test builds only), which SIGKILLs it exactly there. After a restart without it, the halt
# must be complete: rollout halted, bundle blocked, the pinned group not offered it.
set -euo pipefail
server=${1:?usage: halt-crash.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
admin=${2:?usage: halt-crash.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
work=$(mktemp -d /tmp/nr-haltcrash.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail (with the server log tail), on_exit
on_exit cleanup
TESTLIB_LOGS=("$work/err")

store_args=(--data "$work/data")
if [ -n "${NOREBOOT_PG_CONNINFO:-}" ]; then
  db=nr_haltcrash_$$
  "$NOREBOOT_PG_BINDIR/psql" "$NOREBOOT_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
  store_args+=(--postgres "$NOREBOOT_PG_CONNINFO dbname=$db")
fi

. "$(dirname "$0")/test-bundle.sh"
make_test_bundle "$admin" "$work"
checkin='{"kernel":'$kernel',"applied":null,"state":"idle","agent_version":"test"}'

start() {  # start [ENV=VALUE...]: the server on the same store, a fresh port
  env "$@" "$server" --listen 127.0.0.1:0 "${store_args[@]}" --trust "$work/pub.pub" \
    --log-format text >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 300); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
  NOREBOOT_SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
  [ -n "$NOREBOOT_SERVER" ] || fail "server did not start"
  export NOREBOOT_SERVER
}
enroll() {  # enroll TOKEN NAME: prints "HOST_ID CREDENTIAL"
  curl -sf -H 'Content-Type: application/json' -X POST "$NOREBOOT_SERVER/v1/enroll" -d "{\"token\":\"$1\",\"hostname\":\"$2\",\"kernel\":$kernel}" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["host_id"], j["credential"])'
}

start NOREBOOT_FAILPOINTS=store.halt.between_writes
tf=(--token-file "$work/data/admin.token")
[ -s "$work/data/admin.token" ] || fail "no admin token"
"$admin" publish "${tf[@]}" "$work/fix.nrp" >/dev/null
sha=$(sha256sum "$work/fix.nrp" | cut -d' ' -f1)
read -r web_id web_cred < <(enroll "$("$admin" token create-enrollment "${tf[@]}" --group web 2>/dev/null)" web-1)
read -r db_id db_cred < <(enroll "$("$admin" token create-enrollment "${tf[@]}" --group db 2>/dev/null)" db-1)
rid=$("$admin" rollout create "${tf[@]}" --bundle "$sha" --stage 100:3600:0 --group web --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $web_cred" "$NOREBOOT_SERVER/v1/checkin" -d "$checkin" |
  grep -q "\"sha256\":\"$sha\"" || fail "web-1 was not offered the bundle"

echo "== web-1 fails: the ticker halts the rollout and dies between the halt's two writes"
curl -s -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $web_cred" "$NOREBOOT_SERVER/v1/report" \
  -d "{\"host_id\":\"$web_id\",\"state\":\"failed\",\"kernel\":$kernel,\"bundle_sha256\":\"$sha\",\"errors\":[\"stuck\"]}" \
  >/dev/null || true
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
set +e; wait "$pid"; rc=$?; set -e
pid=
[ "$rc" = 137 ] || fail "the server was not killed at the failpoint (exit $rc)"
grep -q "failpoint store.halt.between_writes" "$work/err" || fail "no failpoint line in the log"

echo "== restarted without the failpoint: the halt is whole (or not yet made, then made again)"
start
for _ in $(seq 300); do
  "$admin" rollout status "${tf[@]}" "$rid" --json | grep -q '"state": "halted"' && break
  sleep 0.1
done
"$admin" rollout status "${tf[@]}" "$rid" --json | grep -q '"state": "halted"' || fail "rollout not halted after restart"
curl -sf -H "Authorization: Bearer $(cat "$work/data/admin.token")" "$NOREBOOT_SERVER/v1/bundles" |
  python3 -c 'import json,sys; b=json.load(sys.stdin)["bundles"][0]; assert b["blocked"], b' ||
  fail "the halted rollout's bundle is not blocked"
"$admin" pin "${tf[@]}" db --bundle "$sha" >/dev/null
offer=$(curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $db_cred" "$NOREBOOT_SERVER/v1/checkin" -d "$checkin")
echo "$offer" | grep -q "\"sha256\":\"$sha\"" && fail "the pinned group was offered the failed bundle: $offer"
echo "$offer" | grep -q '"offer":null' || fail "unexpected check-in answer: $offer"
echo "halt-crash: all checks passed"
