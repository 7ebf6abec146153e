#!/usr/bin/env bash
# Agent benchmark (docs/benchmarks.md, Agent):
#   1. the agent's own work from "bundle bytes in memory" to the finit_module call (prep_ms,
#      measured inside apply_bundle), on the fake kernel;
#   2. against a real noreboot-server on 127.0.0.1 (SQLite in a temporary folder), HTTP and
#      HTTPS (a self-signed certificate made here): the idle daemon's memory (VmRSS, Pss,
#      private, anonymous; /proc/PID/smaps_rollup) and CPU while it holds a long poll, its
#      memory after it applied an offered bundle, and the CPU time per check-in (the daemon
#      checking in once a second without long poll; CPU from /proc/PID/task/*/schedstat in
#      ns, check-ins from the server's noreboot_checkins_total).
#
#   bench/agent_bench.sh NOREBOOT NOREBOOT_ADMIN NOREBOOT_SERVER NOREBOOT_FAKE_KERNEL KO1 KO2 [RUNS]
#
# KO1/KO2: two livepatch modules with different names (e.g. nr_agent_fix1.ko and
# nr_agent_fix2.ko from src/agent/tests/modules/fix built with tests/vm/build-module); they are
# applied alternately with rising sequences on the fake kernel (--root), so the numbers are
# the agent's work on this machine's disk (fsync included), not the kernel's.
# Every process started here is stopped by its PID.
set -euo pipefail
NB=$1 ADMIN=$2 SERVER=$3 FAKE=$4 KO1=$5 KO2=$6 RUNS=${7:-20}
export NOREBOOT_FORBID_REAL_KERNEL=1
T=$(mktemp -d "${TMPDIR:-/tmp}/agent-bench.XXXXXX")
pids=()
cleanup() {
  local i   # newest first: agents before the server
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null && wait "${pids[$i]}" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
py() { python3 -c "$@"; }
echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. apply prep ------------------------------------------------------------------------------
R=$T/root
"$FAKE" create "$R" > /dev/null
"$FAKE" identity "$R" > "$T/id.json"
"$ADMIN" keygen "$T/pub" > /dev/null
for i in $(seq 1 "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then ko=$KO1; else ko=$KO2; fi
  py "import json
print(json.dumps({'name': '$(basename "$ko" .ko)', 'sequence': $i, 'kernel': json.load(open('$T/id.json')), 'fixes': []}))" > "$T/m$i.json"
  "$ADMIN" sign --key "$T/pub.key" --manifest "$T/m$i.json" --module "$ko" -o "$T/b$i.nrp" > /dev/null
done
for i in $(seq 1 "$RUNS"); do
  "$NB" --root "$R" apply --trust "$T/pub.pub" --json "$T/b$i.nrp" 2>/dev/null
done | py '
import json, sys, statistics
p = sorted(json.loads(l)["prep_ms"] for l in sys.stdin if l.strip())
print("apply prep_ms (bundle in memory -> finit_module), %d runs: median %.1f, p90 %.1f, min %.1f, max %.1f"
      % (len(p), statistics.median(p), p[int(len(p) * 0.9) - 1], p[0], p[-1]))'

# --- 2. against a real server -------------------------------------------------------------------
cpu_ns() {  # CPU time of every thread of PID, in ns
  local s=0 t
  for t in /proc/"$1"/task/*/schedstat; do s=$((s + $(cut -d' ' -f1 "$t"))); done
  echo "$s"
}
mem() {  # VmRSS, Pss, private, anonymous (kB) and threads of PID
  awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {v+=$2} /^Anonymous:/ {a=$2}
       END {printf "VmRSS %d kB (Pss %d kB, private %d kB, anonymous %d kB)", r, p, v, a}' /proc/"$1"/smaps_rollup
  echo ", $(awk '/^Threads:/ {print $2}' /proc/"$1"/status) threads"
}
checkins() { curl -fsk "$1/metrics" | awk '$1 == "noreboot_checkins_total" {print $2}'; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" 2> /dev/null
sync   # freshly written binaries count as dirty page-cache pages in smaps until written back

for scheme in ${BENCH_SCHEMES:-http https}; do
  port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=$scheme://127.0.0.1:$port
  tls=()
  [ "$scheme" = https ] && tls=(--tls-cert "$T/tls.crt" --tls-key "$T/tls.key")
  "$SERVER" --listen "127.0.0.1:$port" --data "$T/server-$scheme" --trust "$T/pub.pub" --log-format text \
    "${tls[@]+"${tls[@]}"}" > "$T/server-$scheme.log" 2>&1 &
  spid=$!; pids+=("$spid")
  for _ in $(seq 100); do curl -fsk "$url/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
  export NOREBOOT_SERVER=$url NOREBOOT_ADMIN_TOKEN
  NOREBOOT_ADMIN_TOKEN=$(cat "$T/server-$scheme/admin.token")
  adm() { "$ADMIN" "$1" --cacert "$T/tls.crt" "${@:2}"; }
  [ "$scheme" = http ] && adm() { "$ADMIN" "$@"; }
  tok=$(adm token create-enrollment --group bench --json | py 'import json,sys; print(json.load(sys.stdin)["token"])')
  H=$T/host-$scheme
  "$FAKE" create "$H" > /dev/null
  mkdir -p "$H/etc/noreboot"
  conf() {  # conf LONG_POLL INTERVAL
    { echo "server = \"$url\""; echo "trusted_keys = [\"$T/pub.pub\"]"
      [ "$scheme" = https ] && echo "ca_file = \"$T/tls.crt\""
      printf '[checkin]\ninterval_seconds = %s\njitter_seconds = 0\nlong_poll_seconds = %s\n' "$2" "$1"
      printf '[timeouts]\nwatch_seconds = 0.2\n'; } > "$H/etc/noreboot/agent.toml"
  }
  conf 55 300
  "$NB" --root "$H" enroll --token "$tok" --hostname "bench-$scheme" > /dev/null

  # idle: the daemon holds a long poll (55 s) and does nothing else
  "$NB" --root "$H" agent > "$H/agent.log" 2>&1 &
  apid=$!; pids+=("$apid")
  sleep 3
  c0=$(cpu_ns "$apid"); sleep 20; c1=$(cpu_ns "$apid")
  echo "$scheme idle (holding a long poll): $(mem "$apid"); CPU $(( (c1 - c0) / 1000 )) us over 20 s"
  echo "$scheme idle: shared libraries mapped: $(awk '$6 ~ /\.so/ {print $6}' /proc/"$apid"/maps | sort -u | wc -l)"

  # after an offer: publish a bundle, roll it out, wait until applied, measure again
  "$FAKE" identity "$H" > /dev/null
  adm publish "$T/b1.nrp" > /dev/null
  adm rollout create --bundle "$(sha256sum "$T/b1.nrp" | cut -d' ' -f1)" --group bench --stage 100:0:0 > /dev/null
  for _ in $(seq 150); do
    [ "$(cat "$H/sys/kernel/livepatch/$(basename "$KO1" .ko)/transition" 2>/dev/null)" = 0 ] && break; sleep 0.2
  done
  sleep 3
  echo "$scheme after applying an offered bundle ($(stat -c %s "$T/b1.nrp") bytes): $(mem "$apid")"
  kill -TERM "$apid"; wait "$apid" || true

  # per check-in: no long poll, once a second
  conf 0 1
  "$NB" --root "$H" agent > "$H/agent2.log" 2>&1 &
  apid=$!; pids+=("$apid")
  sleep 3
  n0=$(checkins "$url"); c0=$(cpu_ns "$apid"); sleep 20; c1=$(cpu_ns "$apid"); n1=$(checkins "$url")
  n=$((n1 - n0))
  echo "$scheme check-ins: $n in 20 s; CPU $(( (c1 - c0) / 1000 )) us, $(( (c1 - c0) / 1000 / (n > 0 ? n : 1) )) us per check-in; $(mem "$apid")"
  t=$(date +%s.%N); kill -TERM "$apid"; wait "$apid" || true
  echo "$scheme: the agent stopped $(py "print(round($(date +%s.%N) - $t, 2))") s after SIGTERM"
  t=$(date +%s.%N); kill -TERM "$spid"; wait "$spid" || true
  echo "$scheme: the server stopped $(py "print(round($(date +%s.%N) - $t, 2))") s after SIGTERM"
done
