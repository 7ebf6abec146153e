#!/usr/bin/env bash
# Hostile clients against a real noreboot-server (issue 17, the network edge). ctest:
# hostile_clients (label shell, SQLite) and hostile_clients_postgres (label store, run under
# with-postgres: NOREBOOT_PG_CONNINFO set). Each case failed on the server before the fix:
#   1. long polls whose client hangs up do not hold descriptors; one parked poll per host
#   2. token-less uploads get 401 before their body is read (memory stays flat, a stalled
#      one is answered); the (max_uploads+1)th concurrent upload gets 503 + Retry-After
#   3. at a low fd limit the accept loop backs off, logs rarely and recovers
#   4. /metrics labels only known routes ("other" for the rest)
#   5. HEAD answers carry no body on any route
#   6. TLS 1.2 refuses suites without ECDHE or without AEAD; a readable key is warned about
#   7. a text/plain form POST (what another site can make a browser send) is refused 415
#      even with a valid admin token, 401 with the dashboard's cookie, and changes nothing
# Raw-socket clients are in hostile_client.py (python3, standard library only).
# HOSTILE_KEEP_GOING=1: report every failing check instead of stopping at the first (to see
# each case fail against an older server); the exit status is still 1 if any failed.
set -euo pipefail
server=${1:?usage: hostile-clients.sh PATH/TO/noreboot-server}
here=$(cd "$(dirname "$0")" && pwd)
client() { python3 "$here/hostile_client.py" "$@"; }
work=$(mktemp -d /tmp/nr-hostile.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
. "$here/../../../tests/lib/testlib.sh"   # fail (keep-going on request), on_exit
on_exit cleanup
TESTLIB_LOGS=("$work/*.err")   # the servers' logs, tails shown on failure
[ -z "${HOSTILE_KEEP_GOING:-}" ] || TESTLIB_KEEP_GOING=1

store=()
if [ -n "${NOREBOOT_PG_CONNINFO:-}" ]; then
  db=nr_hostile_$$
  "$NOREBOOT_PG_BINDIR/psql" "$NOREBOOT_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
  store=(--postgres "$NOREBOOT_PG_CONNINFO dbname=$db")
  echo "store: PostgreSQL"
fi

# start NAME [ARGS...]: a server with its own data dir (one database for all: they do not
# run at once); sets $pid, $port, $url. A wrapper (e.g. "ulimit -n 64;") can be given in $pre.
start() {
  local name=$1; shift
  bash -c "${pre:-} exec \"\$@\"" server "$server" --listen 127.0.0.1:0 --data "$work/$name" --log-format text \
    "${store[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do
    url=$(grep -o 'https\?://127.0.0.1:[0-9]*' "$work/$name.out" 2>/dev/null | head -1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || fail "server $name exited at start: $(cat "$work/$name.err")"
    sleep 0.1
  done
  [ -n "$url" ] || fail "server $name did not report its address"
  port=${url##*:}
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; }
fds() { ls "/proc/$1/fd" | wc -l; }
rss_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

start main
token=$(cat "$work/main/admin.token")
auth=(-H "Authorization: Bearer $token")
enroll=$(curl -sf -H 'Content-Type: application/json' "${auth[@]}" -X POST "$url/v1/tokens/enrollment" \
  -d '{"group":"web","ttl_seconds":600,"max_uses":5}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
kernel='{"release":"6.1.0-56-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1","build_id":"00112233445566778899aabbccddeeff00112233","arch":"x86_64"}'
cred=$(curl -sf -H 'Content-Type: application/json' -X POST "$url/v1/enroll" -d '{"token":"'"$enroll"'","hostname":"hostile-1","kernel":'"$kernel"'}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"])')
[ -n "$cred" ] || fail "could not enroll a host"

echo "== 1. abandoned long polls free their descriptors"
before=$(fds "$pid")
client abandon "$port" "$cred" 400 >/dev/null
settled=
for _ in $(seq 60); do
  now=$(fds "$pid")
  [ "$now" -le $((before + 20)) ] && { settled=1; break; }
  sleep 0.5
done
echo "descriptors: $before before, $now after 400 abandoned long polls"
[ -n "$settled" ] || fail "400 abandoned long polls left the server at $now descriptors (started at $before)"
waiting=$(curl -s "$url/metrics" | awk '/^noreboot_longpoll_waiting / {print $2}')
[ "${waiting:-x}" -le 1 ] || fail "$waiting long polls still parked after their clients left"

echo "== 1b. a newer long poll of a host answers the older one"
out=$(client replaced "$port" "$cred")
head -1 <<<"$out" | grep -q ' 200 ' || fail "the older poll was not answered when the host parked a newer one: $out"
grep -q '"offer":null' <<<"$out" || fail "the older poll's answer is not 'nothing': $out"

echo "== 2. uploads: 401 before the body, memory flat, stalled upload answered, cap"
out=$(client stalled "$port")
grep -q ' 401 ' <<<"$out" || fail "a stalled token-less upload got '$out' (want 401 at once)"
rss_before=$(rss_kb "$pid")
out=$(client flood "$port" 8 64)
rss_after=$(rss_kb "$pid")
echo "peak RSS: $((rss_before / 1024)) MB before, $((rss_after / 1024)) MB after 8 token-less 64 MiB uploads"
grep -q ' 401 ' <<<"$out" || fail "no token-less upload got 401: $out"
[ $((rss_after - rss_before)) -lt $((100 * 1024)) ] || fail "token-less uploads grew the server by $(((rss_after - rss_before) / 1024)) MB"
out=$(client hold "$port" "$token" 4)
head -1 <<<"$out" | grep -q ' 503 ' || fail "a 5th concurrent upload got '$out' (want 503)"
grep -qx 'retry-after' <<<"$out" || fail "the 503 for a 5th upload has no Retry-After"
# The slots come back when those clients leave.
code=
for _ in $(seq 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/octet-stream' \
    --data-binary 'not a bundle' "$url/v1/bundles")
  [ "$code" != 503 ] && break
  sleep 0.5
done
[ "$code" = 422 ] || [ "$code" = 400 ] || fail "an upload after the stalled ones left got $code (want 422: not a bundle)"

echo "== 4. metrics label known routes only"
size_before=$(curl -s "$url/metrics" | wc -c)
client junk "$port" 300 >/dev/null
metrics=$(curl -s "$url/metrics")
size_after=$(echo "$metrics" | wc -c)
echo "/metrics: $size_before bytes before, $size_after after 300 requests to made-up paths"
grep -q 'route="other"' <<<"$metrics" || fail "no route=\"other\" label after requests to unknown paths"
if grep -q 'route="[^"]*junk' <<<"$metrics"; then fail "a made-up path became a metrics label"; fi
[ "$size_after" -lt $((size_before + 2048)) ] || fail "/metrics grew by $((size_after - size_before)) bytes"
grep -q 'route="/v1/tokens/enrollment",code="201"' <<<"$metrics" || fail "a known route lost its label"

echo "== 5. HEAD carries headers and no body"
for path in /healthz /metrics /v1/fleet /v1/checkin /login /no/such/page; do
  read -r status head_len get_len followed < <(client head "$port" "$path" "$token")
  echo "HEAD $path: $status, Content-Length $head_len (GET: $get_len), $followed"
  [ "$followed" = clean ] || fail "HEAD $path sent a body"
  [ "$head_len" != none ] || fail "HEAD $path has no Content-Length"
done
read -r status head_len get_len followed < <(client head "$port" /healthz)
[ "$head_len" = "$get_len" ] || fail "HEAD /healthz Content-Length $head_len differs from the GET's $get_len"

echo "== 7. a text/plain form POST changes nothing, whatever credential it carries"
out=$(client form "$port" /v1/pins "Bearer $token")
echo "text/plain POST /v1/pins with the admin token: $(head -1 <<<"$out")"
head -1 <<<"$out" | grep -q ' 415 ' || fail "a text/plain POST with a valid admin token got '$out' (want 415)"
grep -q '"unsupported_media_type"' <<<"$out" || fail "the 415 has no unsupported_media_type code: $out"
grep -q 'Content-Type: application/json' <<<"$out" || fail "the 415 does not name the header it needs: $out"
session=$(curl -s -o /dev/null -D - --data-urlencode "token=$token" "$url/login" |
  sed -n 's/^[Ss]et-[Cc]ookie: nr_session=\([0-9a-f]*\).*/\1/p')
[ -n "$session" ] || fail "could not log in to the dashboard"
out=$(client form "$port" /v1/pins "Cookie nr_session=$session")
echo "text/plain POST /v1/pins with the dashboard cookie: $(head -1 <<<"$out")"
head -1 <<<"$out" | grep -q ' 401 ' || fail "a text/plain POST with the dashboard cookie got '$out' (want 401)"
pins=$(curl -sf "${auth[@]}" "$url/v1/pins")
[ "$pins" = '{"pins":[]}' ] || fail "a refused form POST pinned a group: $pins"
if curl -sf "${auth[@]}" "$url/v1/audit" | grep -q '"pin\.'; then fail "a refused form POST left a pin audit entry"; fi
# The same write, declared as JSON (a parameter allowed), is taken: the check is the type.
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json; charset=utf-8' \
  -d '{"group":"web","until":4102444800}' "$url/v1/pins")
[ "$code" = 201 ] || fail "the same pin as application/json; charset=utf-8 got $code (want 201)"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X DELETE "$url/v1/pins/web")
[ "$code" = 200 ] || fail "a DELETE without a body or Content-Type got $code (want 200)"
stop

echo "== 3. at a low fd limit: back off, log rarely, recover"
pre="ulimit -n 80;" start lowfd
limit=$(grep -o 'serving up to [0-9]*' "$work/lowfd.err" | grep -o '[0-9]*$' || true)
echo "connection limit: ${limit:-?}"
client idle "$port" 150 6 >"$work/idle.out" &
idle_pid=$!
pids+=("$idle_pid")
sleep 8
wait "$idle_pid" || true
kill -0 "$pid" 2>/dev/null || fail "the server died at the fd limit"
lines=$(grep -c 'connection limit reached\|accept:' "$work/lowfd.err" || true)
bytes=$(wc -c <"$work/lowfd.err")
echo "log: $lines limit lines, $bytes bytes while 150 clients held connections for 6 s"
[ "$lines" -ge 1 ] || fail "nothing was logged at the connection limit"
[ "$lines" -le 3 ] || fail "the accept loop logged $lines lines in 6 s (want one per 10 s)"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$url/healthz" || true)
[ "$code" = 200 ] || fail "after the clients left, healthz answered '$code'"
stop

echo "== 6. TLS: ECDHE + AEAD only; a readable key is warned about"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 >/dev/null 2>&1
chmod 644 "$work/key.pem"
start tls --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
grep -q 'is readable by everyone' "$work/tls.err" || fail "no warning about the world-readable TLS key"
handshake() { echo | openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher "$1" >/dev/null 2>&1; }
for weak in AES128-SHA AES128-GCM-SHA256 AES256-SHA256 ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA384; do
  if handshake "$weak"; then fail "TLS 1.2 accepted $weak"; fi
done
handshake ECDHE-RSA-AES128-GCM-SHA256 || fail "TLS 1.2 refused ECDHE-RSA-AES128-GCM-SHA256"
handshake ECDHE-RSA-CHACHA20-POLY1305 || fail "TLS 1.2 refused ECDHE-RSA-CHACHA20-POLY1305"
echo | openssl s_client -connect "127.0.0.1:$port" -tls1_3 >/dev/null 2>&1 || fail "TLS 1.3 refused"
stop
[ "$testlib_failures" = 0 ] || { echo "hostile-clients: $testlib_failures checks failed" >&2; exit 1; }
echo "hostile-clients: all checks passed"
