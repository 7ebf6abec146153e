#!/usr/bin/env bash
# Two noreboot-servers on one real PostgreSQL (run under with-postgres; ctest:
# server_two_postgres, label store). Both re-read rollouts only every hour here
# (snapshot_ttl = 3600), so only the NOTIFY/LISTEN between them can carry a change in time
# (the bound is 30 s: without the notification it would take an hour; how fast it is, about
# 20-150 ms, is measured in docs/benchmarks.md, not asserted here, so a busy machine cannot fail
# the test):
#  - an agent long-polling on server B gets the offer of a rollout created on server A;
#  - a halt on server A stops offers on server B;
#  - B's listener survives the database going away and coming back.
set -euo pipefail
server=${1:?usage: two-servers-postgres.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
admin=${2:?usage: two-servers-postgres.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
: "${NOREBOOT_PG_CONNINFO:?run under tests/with-postgres}"
work=$(mktemp -d /tmp/nr-two.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit cleanup
TESTLIB_LOGS=("$work/err.*")   # the servers' logs, tails shown on failure
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }

db=nr_two_$$
"$NOREBOOT_PG_BINDIR/psql" "$NOREBOOT_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null

. "$(dirname "$0")/test-bundle.sh"
make_test_bundle "$admin" "$work"
checkin='{"kernel":'$kernel',"applied":null,"state":"idle","agent_version":"test"}'

start() {  # start NAME: a server on the shared database, its URL in url_NAME
  cat >"$work/$1.toml" <<TOML
listen = "127.0.0.1:0"
data = "$work/data.$1"
store = "postgres"
postgres = "$NOREBOOT_PG_CONNINFO dbname=$db"
trust = ["$work/pub.pub"]
snapshot_ttl = 3600
log_format = "text"
TOML
  "$server" --config "$work/$1.toml" >"$work/out.$1" 2>"$work/err.$1" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/out.$1" 2>/dev/null && break; sleep 0.1; done
  local u
  u=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out.$1" | head -1)
  [ -n "$u" ] || fail "server $1 did not start"
  eval "url_$1=$u"
}
start a
start b
[ ! -e "$work/data.b/admin.token" ] || fail "server b bootstrapped a second admin token"
token=$(cat "$work/data.a/admin.token")
tf=(--token-file "$work/data.a/admin.token")

enroll=$(NOREBOOT_SERVER=$url_a "$admin" token create-enrollment "${tf[@]}" --group web --ttl 600 2>/dev/null)
enroll_host() {  # enroll_host NAME: prints "id credential", enrolled through server b
  curl -sf -H 'Content-Type: application/json' -X POST "$url_b/v1/enroll" -d '{"token":"'"$enroll"'","hostname":"'"$1"'","kernel":'"$kernel"'}' |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["host_id"], j["credential"])'
}
read -r h1 c1 < <(enroll_host web-1)
read -r h2 c2 < <(enroll_host web-2)
waiting_on_b() { curl -s "$url_b/metrics" | awk '/^noreboot_longpoll_waiting /{print $2}'; }

echo "== a rollout created on A reaches a long poll on B"
curl -s -H 'Content-Type: application/json' -X POST "$url_b/v1/checkin?wait=30" -H "Authorization: Bearer $c1" -d "$checkin" >"$work/poll.json" &
poll=$!
for _ in $(seq 100); do [ "$(waiting_on_b)" = 1 ] && break; sleep 0.05; done
[ "$(waiting_on_b)" = 1 ] || fail "the check-in did not park on server b"
sha=$(NOREBOOT_SERVER=$url_a "$admin" publish "${tf[@]}" "$work/fix.nrp" >/dev/null && sha256sum "$work/fix.nrp" | cut -d' ' -f1)
t0=$(now)
NOREBOOT_SERVER=$url_a "$admin" rollout create "${tf[@]}" --bundle "$sha" --stage 100:3600:0 --json >"$work/r.json"
wait "$poll" || fail "long poll on b failed"
t1=$(now)
dt=$(elapsed "$t0" "$t1")
grep -q "\"sha256\":\"$sha\"" "$work/poll.json" || fail "the long poll on b ended without the offer after $dt s: $(cat "$work/poll.json")"
python3 -c "import sys; sys.exit(0 if float('$dt') < 30 else 1)" || fail "offer reached b after $dt s (want < 30 s: the snapshot TTL is an hour, so only a notification arrives sooner)"
echo "offer reached the agent on B $dt s after the rollout was created on A"

echo "== a halt on A stops offers on B"
rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/r.json")
offer_on_b() {
  curl -sf -H 'Content-Type: application/json' -X POST "$url_b/v1/checkin" -H "Authorization: Bearer $c2" -d "$checkin" |
    python3 -c 'import json,sys; print("none" if json.load(sys.stdin)["offer"] is None else "offer")'
}
[ "$(offer_on_b)" = offer ] || fail "host 2 got no offer on b before the halt"
NOREBOOT_SERVER=$url_a "$admin" rollout halt "${tf[@]}" "$rid" --reason "two-server test" >/dev/null
t0=$(now)
seen=
for _ in $(seq 30); do
  if [ "$(offer_on_b)" = none ]; then seen=1; break; fi
  sleep 0.05
done
t1=$(now)
dt=$(elapsed "$t0" "$t1")
[ -n "$seen" ] || fail "b still offers the bundle $dt s after the halt on a"
python3 -c "import sys; sys.exit(0 if float('$dt') < 30 else 1)" || fail "halt reached b after $dt s (want < 30 s: the snapshot TTL is an hour, so only a notification arrives sooner)"
echo "B stopped offering $dt s after the halt on A"

echo "== B's listener comes back after the database restarts"
as=()
[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
"${as[@]}" "$NOREBOOT_PG_BINDIR/pg_ctl" -D "$NOREBOOT_PG_DIR" -m fast -w stop >/dev/null
sleep 1
"${as[@]}" "$NOREBOOT_PG_BINDIR/pg_ctl" -D "$NOREBOOT_PG_DIR" -l "$NOREBOOT_PG_DIR/../server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories=$(dirname "$NOREBOOT_PG_DIR") -p $NOREBOOT_PG_PORT -c fsync=off" start >/dev/null
for _ in $(seq 40); do grep -q "postgres listener: connected again" "$work/err.b" && break; sleep 0.25; done
grep -q "postgres listener: connected again" "$work/err.b" || fail "b's listener did not reconnect"
ok=
for _ in $(seq 20); do
  if NOREBOOT_SERVER=$url_a "$admin" rollout resume "${tf[@]}" "$rid" >/dev/null 2>"$work/resume.err"; then ok=1; break; fi; cat "$work/resume.err" >&2
  sleep 0.5
done
[ -n "$ok" ] || fail "resume on a failed after the database came back: $(cat "$work/resume.err")"
t0=$(now)
seen=
for _ in $(seq 30); do
  if [ "$(offer_on_b 2>/dev/null || echo error)" = offer ]; then seen=1; break; fi
  sleep 0.05
done
dt=$(elapsed "$t0" "$(now)")
[ -n "$seen" ] || fail "b did not offer again $dt s after the resume on a"
python3 -c "import sys; sys.exit(0 if float('$dt') < 30 else 1)" || fail "resume reached b after $dt s (want < 30 s: the snapshot TTL is an hour, so only a notification arrives sooner)"
echo "after the restart, B offered again $dt s after the resume on A"
echo "two-servers-postgres: all checks passed"
