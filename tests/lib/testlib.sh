# testlib.sh: the one shell library of noreboot's shell tests (source it, do not run it).
#
# Every shell test used to write its own fail(), cleanup trap, polling loop and server start.
# This is that code once:
#
#   . "$(dirname "$0")/<relative path>/tests/lib/testlib.sh"
#   testlib_workdir nr-mytest          # $work: a fresh folder under $TMPDIR or /tmp, removed at exit
#   on_exit 'kill "$pid"'              # more cleanup, run at exit in reverse order of adding
#   TESTLIB_LOGS=("$work/err")         # files whose last lines fail prints (names or globs)
#   fail "what went wrong"             # "FAIL: ..." on stderr, the log tails, exit 1
#   pass "what held"                   # "ok: ..." on stdout
#   wait_for 30 "the server to answer" curl -sf "$url/healthz"
#   start_server BIN [ARGS...]         # noreboot-server on a free port of 127.0.0.1, sets
#                                      # $server_pid and $url, stopped (SIGKILL) at exit
#   stop_server                        # SIGTERM, waits, fails unless it exits 0
#
#   testlib_signal_proof               # SIGINT/SIGTERM run the exit commands too, unbroken
#   newest_kernels 3                   # ${kernels[@]}: "ABI VERSION" of the archive's 3 newest
#
# TESTLIB_KEEP_GOING=1 makes fail count the failure and return (for tests that report every
# failing check); `finish` then exits 1 when any was counted. A test that ends with another
# non-zero status (set -e, a signal; not 77, "skipped") shows the log tails too, once.
# Timeouts are generous on purpose: the tests assert that things happen, not how fast
# (benchmarks measure that).

testlib_failures=0
testlib_exit_cmds=()
testlib_logs_shown=0
testlib_signals=0
TESTLIB_LOGS=()
testlib_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

testlib_on_exit_run() {
  local rc=$? i
  # A second signal (a timeout signals the whole process group) must not cut the cleanup short.
  [ "$testlib_signals" = 0 ] || trap '' INT TERM
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || [ "$testlib_logs_shown" = 1 ] || testlib_show_logs
  for ((i = ${#testlib_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${testlib_exit_cmds[i]}" || true; done
  return $rc
}
trap testlib_on_exit_run EXIT

# testlib_signal_proof: SIGINT and SIGTERM end the test with 130 through its exit commands
# (bash runs no EXIT trap for a signal it does not handle), which further signals cannot
# interrupt. For tests that start servers, VMs or builds that must not outlive them.
testlib_signal_proof() {
  testlib_signals=1
  trap 'exit 130' INT TERM
}

# on_exit CMD: runs CMD (a shell string) when the test exits, however it exits.
on_exit() { testlib_exit_cmds+=("$1"); }

# testlib_workdir PREFIX: sets $work to a new folder $TMPDIR/PREFIX.XXXXXX (/tmp), removed at exit.
testlib_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/${1:-nr-test}.XXXXXX")
  on_exit 'rm -rf "$work"'
}

testlib_show_logs() {
  local pattern f
  for pattern in "${TESTLIB_LOGS[@]}"; do
    for f in $pattern; do
      [ -s "$f" ] || continue
      echo "--- $f" >&2
      tail -n "${TESTLIB_LOG_LINES:-5}" "$f" >&2
    done
  done
}

fail() {
  echo "FAIL: $*" >&2
  testlib_show_logs
  testlib_logs_shown=1
  if [ "${TESTLIB_KEEP_GOING:-0}" = 1 ]; then
    testlib_failures=$((testlib_failures + 1))
    return 0
  fi
  exit 1
}

pass() { echo "ok: $*"; }

# finish: the end of a keep-going test.
finish() {
  if [ "$testlib_failures" -gt 0 ]; then
    echo "FAILED: $testlib_failures check(s)" >&2
    exit 1
  fi
  echo "PASS"
}

# newest_kernels N: sets kernels to the N newest kernels that Debian's archive serves with
# everything a build needs (scripts/kernel-fetch --list), oldest first, each "ABI VERSION";
# fails when it serves fewer. Tests name no ABI: they take these.
newest_kernels() {
  mapfile -t kernels < <("$testlib_repo/scripts/kernel-fetch" --list | awk '$3 == "complete" {print $1, $2}' | tail -n "$1")
  [ ${#kernels[@]} -eq "$1" ] || { fail "the archive serves fewer than $1 complete kernels: ${kernels[*]}"; exit 1; }
}

# wait_for SECONDS WHAT CMD...: runs CMD every 0.1 s until it succeeds; fails naming WHAT after
# SECONDS.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { fail "timed out after ${seconds} s waiting for $what"; return 1; }
    sleep 0.1
  done
}

# start_server BIN [ARGS...]: runs BIN --listen 127.0.0.1:0 --log-format text ARGS (give --data
# or --store), reads the address it reports, sets $server_pid and $url. Its output goes to
# $work/server.out and $work/server.err (added to TESTLIB_LOGS).
server_pid=
testlib_server_trap=0
start_server() {
  local bin=$1 i
  shift
  : "${work:?start_server needs testlib_workdir first}"
  "$bin" --listen 127.0.0.1:0 --log-format text "$@" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  TESTLIB_LOGS+=("$work/server.err")
  if [ "$testlib_server_trap" = 0 ]; then
    on_exit testlib_kill_server
    testlib_server_trap=1
  fi
  url=
  for ((i = 0; i < 600; i++)); do
    url=$(grep -o 'https\?://127.0.0.1:[0-9]*' "$work/server.out" 2>/dev/null | head -1 || true)
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { fail "the server exited at start"; return 1; }
    sleep 0.1
  done
  fail "the server did not report its address within 60 s"
}

testlib_kill_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}

# stop_server: SIGTERM, then the server must exit 0 within 30 s.
stop_server() {
  local rc=0 i
  kill -TERM "$server_pid"
  for ((i = 0; i < 300; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$server_pid" 2>/dev/null && { fail "the server did not stop within 30 s of SIGTERM"; return 1; }
  wait "$server_pid" || rc=$?
  server_pid=
  [ "$rc" = 0 ] || fail "the server exited $rc after SIGTERM (want 0)"
}
