#!/usr/bin/env bash
# A server out of file descriptors (issue 17 item 4), for real: noreboot-server starts with the
# usual fd limit, then `prlimit` lowers its RLIMIT_NOFILE below what it already holds plus the
# clients that come, so accept(2) fails with EMFILE (not the connection cap computed at start).
# 150 clients connect and stay. While they do, the server must not spin: the accept error is
# logged at most once per 10 s interval (a spinning loop logged a line per try, 88 MB in 10 s),
# and its CPU time stays far below a core. When the clients go, it answers again.
#   usage: emfile.sh PATH/TO/noreboot-server
set -euo pipefail
server=${1:?usage: emfile.sh PATH/TO/noreboot-server}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"
testlib_workdir nr-emfile

start_server "$server" --data "$work/data"
wait_for 60 "the server to answer /healthz" curl -sf "$url/healthz"
open_now=$(ls /proc/"$server_pid"/fd | wc -l)
limit=$((open_now + 8))
prlimit --pid "$server_pid" --nofile="$limit:$limit"
pass "fd limit of the running server lowered to $limit ($open_now open)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
port=${url##*:}
python3 - "$port" "$work/hold" <<'PY' &
import socket, sys, time, os
port, flag = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(150):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))  # the kernel's backlog accepts even when the server cannot
        held.append(s)
    except OSError:
        pass
open(flag, "w").write(str(len(held)))
while os.path.exists(flag):
    time.sleep(0.1)
PY
holder=$!
on_exit 'rm -f "$work/hold"; kill "$holder" 2>/dev/null || true'
wait_for 60 "the clients to connect" test -s "$work/hold"
pass "$(cat "$work/hold") clients connected and holding"

# Out of descriptors for 12 s (past one log interval).
t0=$(cpu_ticks)
sleep 12
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
kill -0 "$server_pid" 2>/dev/null || fail "the server died out of descriptors"
grep -q "accept: .*[Tt]oo many open files" "$work/server.err" || fail "no EMFILE accept error logged: $(tail -3 "$work/server.err")"
lines=$(grep -c "accept: " "$work/server.err" || true)
[ "$lines" -le 3 ] || fail "the accept error was logged $lines times in 12 s (want at most once per 10 s)"
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
awk -v c="$cpu" 'BEGIN { exit !(c < 6) }' || fail "the server used $cpu s of CPU in 12 s out of descriptors (spinning)"
pass "out of descriptors: $lines log line(s) in 12 s, $cpu s CPU, still running"

# The clients go: the server answers again.
rm -f "$work/hold"
wait "$holder" 2>/dev/null || true
wait_for 120 "the server to answer again once descriptors returned" curl -sf -m 5 "$url/healthz"
pass "answering again after the clients left"
stop_server
pass "stopped cleanly"
echo PASS
