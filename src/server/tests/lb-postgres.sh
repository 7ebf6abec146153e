#!/usr/bin/env bash
# Two noreboot-servers behind nginx on one real PostgreSQL (run under with-postgres; ctest:
# server_lb_postgres, label store). The load-balanced setup of docs/operator-guide.md
# ("Several servers behind a load balancer"), tested:
#  1. 24 simulated agents (tests/lb-agents.py) enroll and check in through nginx; a two-stage
#     rollout runs (3 of them fail, within the budget); server A is SIGKILLed in the middle.
#     The agents carry on through B; every report B or A acknowledged is in the rollout's
#     counts (applied + failed = what the agents were told was accepted), and no host is
#     offered the bundle again after its report was acknowledged.
#  2. A is started again; a second bundle's rollout (budget 0) halts on the first failure,
#     and once the halt is visible no agent is offered that bundle through either server.
set -euo pipefail
server=${1:?usage: lb-postgres.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
admin=${2:?usage: lb-postgres.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
: "${NOREBOOT_PG_CONNINFO:?run under tests/with-postgres}"
command -v nginx >/dev/null || { echo "SKIP: nginx not installed (Debian: nginx-light)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../tests/lib/testlib.sh"   # fail (with the servers' and nginx's log tails), on_exit
testlib_workdir nr-lb
pid_a= pid_b= pid_nginx=
stop_all() {
  for p in $pid_nginx $pid_a $pid_b; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
}
on_exit stop_all
TESTLIB_LOGS=("$work/err.*" "$work/nginx-error.log")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

db=nr_lb_$$
"$NOREBOOT_PG_BINDIR/psql" "$NOREBOOT_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
. "$here/test-bundle.sh"
make_test_bundle "$admin" "$work"
port_a=$(free_port) port_b=$(free_port) port_lb=$(free_port)

start() {  # start NAME PORT: a server on the shared database; sets pid_NAME
  cat >"$work/$1.toml" <<TOML
listen = "127.0.0.1:$2"
data = "$work/data.$1"
store = "postgres"
postgres = "$NOREBOOT_PG_CONNINFO dbname=$db"
trust = ["$work/pub.pub"]
log_format = "text"
TOML
  "$server" --config "$work/$1.toml" >"$work/out.$1" 2>"$work/err.$1" &
  eval "pid_$1=$!"
  for _ in $(seq 300); do grep -q listening "$work/out.$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "server $1 did not start"
}
start a "$port_a"
start b "$port_b"

mkdir -p "$work/nginx-tmp"
cat >"$work/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  upstream noreboot {
    server 127.0.0.1:$port_a max_fails=1 fail_timeout=2s;
    server 127.0.0.1:$port_b max_fails=1 fail_timeout=2s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$port_lb;
    client_max_body_size 64m;
    location / {
      proxy_pass http://noreboot;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_read_timeout 330s;
      proxy_request_buffering on;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
    }
  }
}
NGINX
nginx -p "$work" -e "$work/nginx-error.log" -c "$work/nginx.conf" &
pid_nginx=$!
lb=http://127.0.0.1:$port_lb
for _ in $(seq 100); do curl -sf "$lb/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$lb/healthz" >/dev/null || fail "nginx does not pass /healthz through"
export NOREBOOT_SERVER=$lb
tf=(--token-file "$work/data.a/admin.token")
[ -s "$work/data.a/admin.token" ] || fail "no admin token from server a"

echo "== 1. a rollout through nginx; server A is SIGKILLed mid-rollout"
"$admin" publish "${tf[@]}" "$work/fix.nrp" >/dev/null
sha=$(sha256sum "$work/fix.nrp" | cut -d' ' -f1)
enroll=$("$admin" token create-enrollment "${tf[@]}" --group web --ttl 600 2>/dev/null)
rid=$("$admin" rollout create "${tf[@]}" --bundle "$sha" --stage 50:3:5 --stage 100:0:5 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 "$here/lb-agents.py" --server "$lb" --enroll "$enroll" --kernel "$kernel" --hosts 24 --fail-every 8 \
  --bundle "$sha" --sequence 1 --rollout "$rid" --admin-token "$(cat "$work/data.a/admin.token")" \
  --kill-after-round 1 --kill-pid "$pid_a" --state "$work/hosts.json" || fail "phase 1"
wait "$pid_a" 2>/dev/null || true
pid_a=

echo "== 2. A back; a rollout with budget 0 halts; no offer of its bundle afterwards"
start a "$port_a"
sed 's/"sequence": 1/"sequence": 2/' "$work/manifest.json" >"$work/manifest2.json"
"$admin" sign --key "$work/pub.key" --manifest "$work/manifest2.json" --module "$work/nr_fix.ko" -o "$work/fix2.nrp" >/dev/null
"$admin" publish "${tf[@]}" "$work/fix2.nrp" >/dev/null
sha2=$(sha256sum "$work/fix2.nrp" | cut -d' ' -f1)
rid2=$("$admin" rollout create "${tf[@]}" --bundle "$sha2" --stage 100:3600:0 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 "$here/lb-agents.py" --server "$lb" --kernel "$kernel" --fail-every 1 --bundle "$sha2" --sequence 2 \
  --rollout "$rid2" --admin-token "$(cat "$work/data.a/admin.token")" --expect-halt --state "$work/hosts.json" ||
  fail "phase 2"
echo "lb-postgres: all checks passed"
