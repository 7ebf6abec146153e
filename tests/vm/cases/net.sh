#!/usr/bin/env bash
# vm tier, network: with --net PORT the guest reaches a python3 http.server bound to
# 127.0.0.1:PORT on the host at $NOREBOOT_HOST (busybox wget), twice (one forwarder per
# connection), and reaches nothing else: not the same port through the slirp gateway
# (10.0.2.2), not another port of the forward address, not an outside address.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/www"
token=served-$RANDOM$RANDOM
echo "$token" > "$T/www/hello.txt"
# Pick two free ports: one served, one also served but NOT forwarded (must stay unreachable).
read -r port other < <(python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" > "$T/http.log" 2>&1 &
h1=$!
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$other" > "$T/http2.log" 2>&1 &
h2=$!
on_exit 'kill $h1 $h2 2>/dev/null; wait $h1 $h2 2>/dev/null || true'
for _ in $(seq 50); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/hello.txt', timeout=1); u.urlopen('http://127.0.0.1:$other/hello.txt', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
rc=0
vm "$T/out" "$T/err" --net "$port" -- sh -c '
  echo "host=$NOREBOOT_HOST"
  # (timeout(1), not wget -T: busybox 1.35 wget -T segfaults)
  try() { if timeout 10 busybox wget -q -O - "$1" 2>/dev/null; then echo "reach $1: yes"; else echo "reach $1: no"; fi; }
  try "http://$NOREBOOT_HOST/hello.txt"
  try "http://$NOREBOOT_HOST/hello.txt"
  try "http://10.0.2.2:'"$port"'/hello.txt"
  try "http://10.0.2.100:'"$other"'/hello.txt"
  try "http://10.0.2.2:'"$other"'/hello.txt"
  try "http://1.1.1.1/"' || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest script"
expect_line "$T/out" "^host=10.0.2.100:$port\$" "NOREBOOT_HOST exported"
expect_line "$T/err" "NOREBOOT_HOST=10.0.2.100:$port" "vm-run prints the address"
[ "$(grep -c "^$token\$" "$T/out")" = 2 ] || fail "the served file did not arrive twice"
ok "guest fetched from 127.0.0.1:$port twice"
expect_line "$T/out" "reach http://10.0.2.2:$port/hello.txt: no" "the host's port via the gateway is unreachable"
expect_line "$T/out" "reach http://10.0.2.100:$other/hello.txt: no" "another forwarded-address port is unreachable"
expect_line "$T/out" "reach http://10.0.2.2:$other/hello.txt: no" "another host port is unreachable"
expect_line "$T/out" "reach http://1.1.1.1/: no" "outside addresses are unreachable"
[ "$(grep -c 'GET /hello.txt' "$T/http2.log" || true)" = 1 ] || fail "the unforwarded server saw guest requests"
ok "the unforwarded server saw only the test's own probe"
