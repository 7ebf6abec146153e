#!/usr/bin/env bash
# The shell test library checks itself (ctest testlib_selftest, label unit): fail exits 1 with
# its message and the log tails, keep-going counts, on_exit runs in reverse order even after a
# failure, wait_for gives up with the name of what it waited for, the work folder goes away.
set -euo pipefail
lib=$(cd "$(dirname "$0")" && pwd)/testlib.sh
out=$(mktemp -d /tmp/nr-testlib.XXXXXX)
trap 'rm -rf "$out"' EXIT
bad() { echo "testlib_selftest FAIL: $*" >&2; exit 1; }

# fail: exit 1, message and log tail on stderr, exit commands in reverse order.
rc=0
bash -c '. "$1"; testlib_workdir nr-selftest; echo "$work" >"$2/work"; echo "last log line" >"$work/log"
  TESTLIB_LOGS=("$work/log"); on_exit "echo first-added >>$2/order"; on_exit "echo second-added >>$2/order"
  fail "the thing broke"; echo "not reached"' _ "$lib" "$out" >"$out/stdout" 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || bad "fail exited $rc (want 1)"
grep -q '^FAIL: the thing broke$' "$out/stderr" || bad "fail's message missing: $(cat "$out/stderr")"
grep -q '^last log line$' "$out/stderr" || bad "fail did not show the log tail"
! grep -q "not reached" "$out/stdout" || bad "fail did not stop the test"
[ "$(cat "$out/order")" = "$(printf 'second-added\nfirst-added')" ] || bad "exit commands order: $(cat "$out/order")"
[ ! -e "$(cat "$out/work")" ] || bad "the work folder was left behind"

# keep-going: every failure counted, finish exits 1; a clean run passes.
rc=0
bash -c '. "$1"; TESTLIB_KEEP_GOING=1; fail one; fail two; pass three; finish' _ "$lib" >"$out/stdout" 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || bad "finish after two failures exited $rc (want 1)"
grep -q "FAILED: 2 check" "$out/stderr" || bad "finish did not count two failures: $(cat "$out/stderr")"
grep -q "^ok: three$" "$out/stdout" || bad "pass printed nothing"
bash -c '. "$1"; TESTLIB_KEEP_GOING=1; pass fine; finish' _ "$lib" >/dev/null || bad "a clean keep-going run failed"

# wait_for: succeeds once the condition holds; names what it waited for when it gives up.
bash -c '. "$1"; (sleep 0.5; touch "$2/flag") & wait_for 60 "the flag" test -e "$2/flag"' _ "$lib" "$out" ||
  bad "wait_for did not see the flag"
rc=0
bash -c '. "$1"; wait_for 1 "a file that never comes" test -e /nonexistent/never' _ "$lib" 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || bad "wait_for on a false condition exited $rc (want 1)"
grep -q "timed out after 1 s waiting for a file that never comes" "$out/stderr" || bad "wait_for message: $(cat "$out/stderr")"

# start_server/stop_server on a stand-in that reports an address like noreboot-server and
# exits 0 on SIGTERM; a server left running is killed at exit.
cat >"$out/fake-server" <<'SH'
#!/usr/bin/env bash
trap 'exit 0' TERM
echo "listening on http://127.0.0.1:4242 (args: $*)"
while :; do sleep 0.1; done
SH
chmod +x "$out/fake-server"
bash -c '. "$1"; testlib_workdir nr-selftest; start_server "$2/fake-server" --data x
  [ "$url" = http://127.0.0.1:4242 ] || fail "url is $url"; grep -q -- "--listen 127.0.0.1:0 --log-format text --data x" "$work/server.out" || fail "args"
  stop_server; [ -z "$server_pid" ] || fail "server_pid kept"' _ "$lib" "$out" 2>"$out/stderr" ||
  bad "start_server/stop_server: $(cat "$out/stderr")"
bash -c '. "$1"; testlib_workdir nr-selftest; start_server "$2/fake-server"; echo "$server_pid" >"$2/left"' _ "$lib" "$out" ||
  bad "start_server for the exit check"
! kill -0 "$(cat "$out/left")" 2>/dev/null || bad "a running server was not killed at exit"

# An exit other than fail (set -e here) shows the log tails once; a skip (77) shows none.
rc=0
bash -c 'set -e; . "$1"; testlib_workdir nr-selftest; echo "why it broke" >"$work/log"; TESTLIB_LOGS=("$work/log")
  false; echo "not reached"' _ "$lib" >/dev/null 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || bad "set -e exit gave $rc (want 1)"
[ "$(grep -c '^why it broke$' "$out/stderr")" = 1 ] || bad "a set -e exit did not show the log tail once: $(cat "$out/stderr")"
bash -c '. "$1"; testlib_workdir nr-selftest; echo "why" >"$work/log"; TESTLIB_LOGS=("$work/log"); exit 77' _ "$lib" 2>"$out/stderr" || true
! grep -q why "$out/stderr" || bad "a skipped test (77) showed its logs"

# testlib_signal_proof: SIGTERM runs the exit commands (exit 130), and a second SIGTERM while
# they run does not cut them short.
bash -c '. "$1"; testlib_signal_proof; on_exit "sleep 1; echo cleaned >$2/signal"; touch "$2/ready"; while :; do sleep 0.1; done' \
  _ "$lib" "$out" & victim=$!
wait_ready() { for _ in $(seq 300); do [ -e "$out/ready" ] && return 0; sleep 0.1; done; return 1; }
wait_ready || bad "the signal-proof test did not start"
kill -TERM "$victim"; sleep 0.3; kill -TERM "$victim" 2>/dev/null || true
rc=0; wait "$victim" || rc=$?
[ "$rc" = 130 ] || bad "a signal-proof test exited $rc on SIGTERM (want 130)"
[ "$(cat "$out/signal" 2>/dev/null)" = cleaned ] || bad "the exit commands did not finish after two SIGTERMs"
echo "PASS"
