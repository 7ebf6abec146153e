#!/usr/bin/env bash
# noreboot-server on PostgreSQL (run under with-postgres; ctest: server_postgres, label store):
# it serves from the shared database, answers 503 with a JSON error and Retry-After while
# the database is down, and recovers by itself when it is back.
set -euo pipefail
server=${1:?usage: server-postgres.sh PATH/TO/noreboot-server}
: "${NOREBOOT_PG_CONNINFO:?run under tests/with-postgres}"
work=$(mktemp -d /tmp/nr-srvpg.XXXXXX)
pid=
as=()
[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit cleanup
pgctl() { "${as[@]}" "$NOREBOOT_PG_BINDIR/pg_ctl" -D "$NOREBOOT_PG_DIR" "$@" >/dev/null; }

"$server" --listen 127.0.0.1:0 --data "$work/data" --postgres "$NOREBOOT_PG_CONNINFO dbname=postgres" \
  --log-format text >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
[ -n "$url" ] || fail "server did not start: $(cat "$work/err")"
[ ! -e "$work/data/noreboot.db" ] || fail "a SQLite file was created although the store is PostgreSQL"
token=$(cat "$work/data/admin.token")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "healthz not 200"
curl -sf -H "Authorization: Bearer $token" "$url/v1/fleet" | grep -q '"hosts":0' || fail "fleet query failed"

echo "== database down: 503"
pgctl -m fast -w stop
code=$(curl -s -D "$work/hdr" -o "$work/body" -w '%{http_code}' "$url/healthz")
[ "$code" = 503 ] || fail "healthz with the database down answered $code"
grep -q '"code":"unavailable"' "$work/body" || fail "no JSON error: $(cat "$work/body")"
code=$(curl -s -D "$work/hdr" -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$url/v1/fleet")
[ "$code" = 503 ] || fail "fleet with the database down answered $code"
grep -qi '^retry-after:' "$work/hdr" || fail "503 without Retry-After"

echo "== database back: recovers"
pgctl -l "$NOREBOOT_PG_DIR/../server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories=$(dirname "$NOREBOOT_PG_DIR") -p $NOREBOOT_PG_PORT -c fsync=off" start
ok=
for _ in $(seq 20); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] && { ok=1; break; }
  sleep 0.5
done
[ -n "$ok" ] || fail "server did not recover after the database came back"
curl -sf -H "Authorization: Bearer $token" "$url/v1/fleet" | grep -q '"hosts":0' || fail "fleet query failed after recovery"
kill -TERM "$pid"; wait "$pid" || fail "server exit status $? after SIGTERM"; pid=
echo "server-postgres: all checks passed"
