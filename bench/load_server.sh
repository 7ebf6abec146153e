#!/usr/bin/env bash
# Load figures for docs/benchmarks.md "## Server": simulated agents (noreboot-load) against a
# real noreboot-server on loopback, with the SQLite or the PostgreSQL store, and nginx serving
# a static file as the ceiling. Every run starts a fresh server (fresh store) and stops it.
#
#   bench/load_server.sh [--store sqlite|postgres] [--agents N] [--kernels K] [--build DIR] [--only MODE]
#
# Modes: checkins (200 connections, wait=0, 10 s), reports (200 connections posting reports,
# each a write, 10 s), hold (N parked long polls, server RSS),
# rollout (N agents, one 100 % stage: publish-to-applied p50/p99), staged (1 % -> 10 % -> 100 %
# with 2 s soaks), halt (5 % of agents fail; stage 1 % budget 0: the rollout halts),
# fix (N agents spread over K kernels (--kernels, default 4), one fix with a bundle per kernel
# published with its signed fix record, ONE fix rollout at 100 %: publish-to-applied p50/p99,
# to set beside `rollout`'s single-kernel figure), nginx.
# Prints one JSON line per run (prefixed "RESULT store mode") and a summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
store=sqlite agents=10000 kernels=4 build="$root/build" only=
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --kernels) kernels=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "load_server.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
server="$build/src/server/noreboot-server" admin="$build/src/admin/noreboot-admin" load="$build/src/server/noreboot-load"
for b in "$server" "$admin" "$load"; do [ -x "$b" ] || { echo "missing $b: build first" >&2; exit 1; }; done
if [ "$store" = postgres ] && [ -z "${NOREBOOT_PG_CONNINFO:-}" ]; then
  exec "$root/src/server/tests/with-postgres" "$0" --store postgres --agents "$agents" --kernels "$kernels" --build "$build" ${only:+--only "$only"}
fi
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/nr-load.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

build_id=00112233445566778899aabbccddeeff00112233
"$admin" keygen "$work/pub" >/dev/null
printf '\177ELF simulated livepatch module %04096d' 0 >"$work/nr_fix.ko"
for seq in 1 2; do
  cat >"$work/m$seq.json" <<JSON
{"name": "nr_fix", "sequence": $seq,
 "kernel": {"release": "6.1.0-56-amd64", "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1", "build_id": "$build_id", "arch": "x86_64"},
 "module": {"vermagic": "6.1.0-56-amd64 SMP preempt mod_unload modversions"}, "fixes": [{"id": "BENCH-$seq", "description": "load test"}]}
JSON
  "$admin" sign --key "$work/pub.key" --manifest "$work/m$seq.json" --module "$work/nr_fix.ko" -o "$work/fix$seq.nrp" >/dev/null
done

# The fix: one bundle per kernel (kernel k as noreboot-load --kernels names it: 6.1.0-(56+k)-amd64,
# the build ID's last byte k) and the signed record naming them, in $work/fixdir.
mkdir -p "$work/fixdir"
for k in $(seq 0 $((kernels - 1))); do
  rel="6.1.0-$((56 + k))-amd64" bid=${build_id:0:38}$(printf '%02x' "$k")
  [ "$k" = 0 ] && bid=$build_id
  cat >"$work/fm$k.json" <<JSON
{"name": "nr_fix", "sequence": 1,
 "kernel": {"release": "$rel", "version": "#1", "build_id": "$bid", "arch": "x86_64"},
 "module": {"vermagic": "$rel SMP preempt mod_unload modversions"}, "fixes": [{"id": "BENCH-FIX", "description": "load test"}]}
JSON
  "$admin" sign --key "$work/pub.key" --manifest "$work/fm$k.json" --module "$work/nr_fix.ko" -o "$work/fixdir/$rel.nrp" >/dev/null
  echo "$rel $bid" >>"$work/fixdir/kernels"
done
python3 - "$work/fixdir" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
ks = []
for line in open(d + "/kernels"):
    rel, bid = line.split()
    sha = hashlib.sha256(open(d + "/" + rel + ".nrp", "rb").read()).hexdigest()
    ks.append({"release": rel, "version": "6.1.0-1", "outcome": "built",
               "bundle": {"file": rel + ".nrp", "sha256": sha, "build_id": bid, "module": "nr_fix", "sequence": 1}})
rec = {"format_version": 1, "fixes": [{"id": "BENCH-FIX", "description": "load test"}],
       "patch": {"name": "bench.patch", "sha256": "b" * 64}, "kernels": ks,
       "builder_version": "bench", "created": "2026-12-03T00:00:00Z"}
open(d + "/fix.json", "w").write(json.dumps(rec, indent=2) + "\n")
PY
"$admin" sign --key "$work/pub.key" --record "$work/fixdir/fix.json" >/dev/null

run=0
start_server() {
  run=$((run + 1))
  local data="$work/data$run" pgargs=()
  if [ "$store" = postgres ]; then
    local db="nr_load_$run"
    "${NOREBOOT_PG_BINDIR:-/usr/lib/postgresql/15/bin}/psql" "$NOREBOOT_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
    pgargs=(--postgres "$NOREBOOT_PG_CONNINFO dbname=$db")
  fi
  "$server" --listen 127.0.0.1:0 --data "$data" --trust "$work/pub.pub" "${pgargs[@]}" >"$work/out" 2>"$work/server.log" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
  port=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | head -1 | cut -d: -f2)
  admin_token=$(cat "$data/admin.token")
  enroll=$(NOREBOOT_SERVER=http://127.0.0.1:$port NOREBOOT_ADMIN_TOKEN=$admin_token "$admin" token create-enrollment --group sim --ttl 86400 --max-uses 0 2>/dev/null)
}
stop_server() {
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
  # A sanitizer build of the server (--build build-asan) reports here.
  grep -E -A20 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error' "$work/server.log" >&2 || true
}
result() { echo "RESULT $store $1 $2 loadavg=$(cut -d" " -f1-3 /proc/loadavg | tr " " /)"; }

want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if want checkins; then
  start_server
  r=$("$load" --mode checkins --port "$port" --agents 200 --seconds 10 --enroll-token "$enroll" --limit 120)
  result checkins "$r"; stop_server
fi
if want reports; then
  start_server
  r=$("$load" --mode reports --port "$port" --agents 200 --seconds 10 --enroll-token "$enroll" --limit 120)
  result reports "$r"; stop_server
fi
if want hold; then
  start_server
  n=$(( agents < 19000 ? agents : 19000 ))
  r=$("$load" --mode hold --port "$port" --agents "$n" --enroll-token "$enroll" --server-pid "$pid" --limit 600)
  result hold "$r"; stop_server
fi
if want rollout; then
  start_server
  r=$("$load" --mode rollout --port "$port" --agents "$agents" --enroll-token "$enroll" --admin-token "$admin_token" \
        --bundle "$work/fix1.nrp" --stages 100:0:0 --server-pid "$pid" --limit 600)
  result rollout "$r"; stop_server
fi
if want fix; then
  start_server
  r=$("$load" --mode rollout --port "$port" --agents "$agents" --enroll-token "$enroll" --admin-token "$admin_token" \
        --fix "$work/fixdir" --kernels "$kernels" --stages 100:0:0 --server-pid "$pid" --limit 600)
  result "fix-$kernels-kernels" "$r"; stop_server
fi
if want staged; then
  start_server
  r=$("$load" --mode rollout --port "$port" --agents "$agents" --enroll-token "$enroll" --admin-token "$admin_token" \
        --bundle "$work/fix1.nrp" --stages 1:2:0,10:2:0,100:0:0 --server-pid "$pid" --limit 600)
  result staged "$r"; stop_server
fi
if want halt; then
  start_server
  r=$("$load" --mode rollout --port "$port" --agents "$agents" --enroll-token "$enroll" --admin-token "$admin_token" \
        --bundle "$work/fix2.nrp" --stages 1:30:0,100:0:10 --fail-percent 5 --server-pid "$pid" --limit 600)
  result halt "$r"; stop_server
fi
if want nginx && [ "$store" = sqlite ] && command -v nginx >/dev/null; then
  mkdir -p "$work/www" "$work/nginx"
  cp "$work/fix1.nrp" "$work/www/index.html"
  chmod o+rx "$work" "$work/www"; chmod o+r "$work/www/index.html"  # nginx workers run as nobody
  nport=$(( 30000 + RANDOM % 20000 ))
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nport; root $work/www; keepalive_requests 1000000; }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 </dev/null &
  npid=$!
  sleep 1
  r=$("$load" --mode static --port "$nport" --agents 200 --seconds 10 --path / --limit 60)
  result nginx "$r"
  kill -QUIT "$npid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$npid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$npid" 2>/dev/null || true; wait "$npid" 2>/dev/null || true
fi
