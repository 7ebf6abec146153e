#!/usr/bin/env bash
# End-to-end checks of the noreboot-server binary (ctest: server_binary, label unit):
# the ARCHITECTURE interface (--listen/--data, /healthz, /metrics, clean SIGTERM), the
# config file, TLS, refusing plain HTTP off loopback, 404 and 405 (with Allow) from the route
# table, and a server killed (SIGKILL) in the middle of a bundle upload leaving nothing
# visible after a restart.
set -euo pipefail
server=${1:?usage: server-binary.sh PATH/TO/noreboot-server}
work=$(mktemp -d /tmp/nr-srvbin.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit 'cleanup'

# start DATA [ARGS...]: starts the server on a free port, sets $pid and $url.
start() {
  local data=$1; shift
  "$server" --listen 127.0.0.1:0 --data "$data" --log-format text "$@" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'https\?://127.0.0.1:[0-9]*' "$work/out" 2>/dev/null | head -1 || true)
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; fail "server exited at start"; }
    sleep 0.1
  done
  fail "server did not report its address"
}
stop() {
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "server did not stop within 5 s of SIGTERM"
  wait "$pid" && rc=0 || rc=$?
  [ "$rc" = 0 ] || fail "server exited $rc after SIGTERM (want 0)"
  pid=
}

echo "== --listen/--data, healthz, metrics, SIGTERM"
start "$work/data"
[ -f "$work/data/noreboot.db" ] || fail "no SQLite store created in the data dir"
[ "$(stat -c %a "$work/data/admin.token")" = 600 ] || fail "admin.token must be mode 0600"
code=$(curl -s -o "$work/h" -w '%{http_code}' "$url/healthz")
[ "$code" = 200 ] || fail "healthz answered $code"
curl -sf "$url/metrics" | grep -q '^noreboot_checkins_total 0$' || fail "metrics lack noreboot_checkins_total"
token=$(cat "$work/data/admin.token")
curl -sf -H "Authorization: Bearer $token" "$url/v1/fleet" | grep -q '"hosts":0' || fail "admin token does not work"
# The route table: a known path with a wrong method is 405 with Allow; an unknown one is 404.
code=$(curl -s -D "$work/hdr" -o "$work/body" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" "$url/v1/fleet")
[ "$code" = 405 ] || fail "DELETE /v1/fleet answered $code (want 405)"
grep -qi '^allow: GET, HEAD' "$work/hdr" || fail "405 without 'Allow: GET, HEAD': $(cat "$work/hdr")"
grep -q '"method_not_allowed"' "$work/body" || fail "405 body: $(cat "$work/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/healthz")
[ "$code" = 405 ] || fail "POST /healthz answered $code (want 405)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/v1/no-such-route")
[ "$code" = 404 ] || fail "GET /v1/no-such-route answered $code (want 404)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/no-such-route")
[ "$code" = 401 ] || fail "an unknown /v1 route without a token answered $code (want 401: the token is checked first)"
stop

echo "== killed during an upload: nothing visible after restart"
start "$work/data"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/big.nrp"
curl -s -o /dev/null --limit-rate 512k -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/octet-stream' --data-binary @"$work/big.nrp" "$url/v1/bundles" &
curl_pid=$!
sleep 1.5
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=
wait "$curl_pid" 2>/dev/null || true
start "$work/data"
[ "$(cat "$work/data/admin.token")" = "$token" ] || fail "admin token changed on restart"
list=$(curl -sf -H "Authorization: Bearer $token" "$url/v1/bundles")
[ "$list" = '{"bundles":[]}' ] || fail "a partial upload is visible: $list"
stop

echo "== config file, bad config, plain HTTP off loopback"
cat >"$work/server.toml" <<TOML
listen = "127.0.0.1:0"
data = "$work/data2"
threads = 1
checkin_interval = 30
log_format = "text"
TOML
"$server" --config "$work/server.toml" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
[ -n "$url" ] || fail "server with --config did not start: $(cat "$work/err")"
[ -f "$work/data2/noreboot.db" ] || fail "config 'data' not used"
stop
echo 'lisen = "127.0.0.1:1"' >"$work/bad.toml"
set +e
"$server" --config "$work/bad.toml" --data "$work/d3" 2>"$work/err"; rc=$?
set -e
[ "$rc" = 2 ] || fail "unknown config key: exit $rc (want 2)"
grep -q "line [0-9]*: unknown key 'lisen' (known: listen, " "$work/err" || fail "unclear config error: $(cat "$work/err")"
set +e
timeout 10 "$server" --listen 0.0.0.0:0 --data "$work/d4" 2>"$work/err"; rc=$?
set -e
[ "$rc" != 0 ] || fail "plain HTTP on 0.0.0.0 accepted"
grep -q "only allowed on a loopback" "$work/err" || fail "unclear TLS error: $(cat "$work/err")"

echo "== TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
start "$work/data3" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
case "$url" in https://*) ;; *) fail "TLS server reports $url";; esac
code=$(curl -s --cacert "$work/cert.pem" --resolve "localhost:${url##*:}:127.0.0.1" -o /dev/null -w '%{http_code}' "https://localhost:${url##*:}/healthz")
[ "$code" = 200 ] || fail "healthz over TLS answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${url##*:}/healthz" || true)
[ "$code" != 200 ] || fail "plain HTTP answered on the TLS port"
stop
echo "server-binary: all checks passed"
