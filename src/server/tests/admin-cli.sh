#!/usr/bin/env bash
# noreboot-admin's server commands against a real noreboot-server (ctest: admin_server_cli,
# label unit): keygen + sign a bundle at test time, publish it, tokens, enroll a host over
# HTTP, rollouts (create/status/halt/resume/promote), pins, hosts, fleet, audit, fix approve; --json output
# parses; errors give the server's message and the documented exit codes.
set -euo pipefail
server=${1:?usage: admin-cli.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
admin=${2:?usage: admin-cli.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
work=$(mktemp -d /tmp/nr-admincli.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit 'cleanup'
[ -n "${NR_DEBUG:-}" ] && set -x

. "$(dirname "$0")/test-bundle.sh"
make_test_bundle "$admin" "$work"

"$server" --listen 127.0.0.1:0 --data "$work/data" --trust "$work/pub.pub" --log-format text >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
export NOREBOOT_SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
[ -n "$NOREBOOT_SERVER" ] || fail "server did not start: $(cat "$work/err")"
tf=(--token-file "$work/data/admin.token")

echo "== publish"
"$admin" publish "${tf[@]}" "$work/fix.nrp" | tee "$work/pub.txt"
grep -q "published nr_fix #1 for 6.1.0-56-amd64" "$work/pub.txt" || fail "publish output"
sha=$(sha256sum "$work/fix.nrp" | cut -d' ' -f1)
grep -q "$sha" "$work/pub.txt" || fail "publish does not show the bundle's sha256"
head -c 3000 /dev/urandom >"$work/junk.nrp"
set +e; "$admin" publish "${tf[@]}" "$work/junk.nrp" 2>"$work/e"; rc=$?; set -e
[ "$rc" = 3 ] || fail "publishing junk: exit $rc (want 3)"
grep -q "422" "$work/e" || fail "no server message: $(cat "$work/e")"

echo "== tokens, enroll a host"
enroll=$("$admin" token create-enrollment "${tf[@]}" --group web --tag eu --ttl 600 --max-uses 5 2>/dev/null)
case "$enroll" in nre_*) ;; *) fail "enrollment token: $enroll";; esac
host_json=$(curl -sf -H 'Content-Type: application/json' -X POST "$NOREBOOT_SERVER/v1/enroll" -d "{\"token\":\"$enroll\",\"hostname\":\"web-1\",\"kernel\":{\"release\":\"6.1.0-56-amd64\",\"version\":\"#1\",\"build_id\":\"$build\",\"arch\":\"x86_64\"}}")
cred=$(echo "$host_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"])')
hid=$(echo "$host_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_id"])')
"$admin" token list "${tf[@]}" | grep -q "web.*1/5" || fail "token list does not show one use of five"
ro=$("$admin" token create-admin "${tf[@]}" --role read --name viewer 2>/dev/null)
echo "$ro" >"$work/ro.token"

echo "== rollout"
"$admin" rollout create "${tf[@]}" --bundle "$sha" --stage 100:3600:0 --group web --json >"$work/r.json"
rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/r.json")
offer=$(curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $cred" "$NOREBOOT_SERVER/v1/checkin" \
  -d "{\"kernel\":{\"release\":\"6.1.0-56-amd64\",\"version\":\"#1\",\"build_id\":\"$build\",\"arch\":\"x86_64\"},\"applied\":null,\"state\":\"idle\"}")
echo "$offer" | grep -q "\"sha256\":\"$sha\"" || fail "no offer after rollout create: $offer"
"$admin" rollout status "${tf[@]}" | grep -q "$rid.*nr_fix #1.*running" || fail "rollout status table"
"$admin" rollout status "${tf[@]}" "$rid" | grep -q "1 of 1 in stage" || fail "rollout detail"
"$admin" rollout halt "${tf[@]}" "$rid" --reason "operator says stop" | grep -q "halted (operator says stop)" || fail "halt"
set +e; "$admin" rollout promote "${tf[@]}" "$rid" 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "409" "$work/e" || fail "promote of a halted rollout: exit $rc $(cat "$work/e")"
"$admin" rollout resume "${tf[@]}" "$rid" | grep -q "running" || fail "resume"
set +e; "$admin" rollout halt --token-file "$work/ro.token" "$rid" 2>"$work/e"; rc=$?; set -e
[ "$rc" != 0 ] && grep -q "403" "$work/e" || fail "read-only token could halt: exit $rc"

echo "== pins, hosts, fleet, audit"
"$admin" pin "${tf[@]}" web --until 4102444800 | grep -q "pinned until 2100-01-01" || fail "pin"
"$admin" unpin "${tf[@]}" web | grep -q unpinned || fail "unpin"
"$admin" hosts "${tf[@]}" | grep -q "web-1.*$hid.*web" || fail "hosts table"
"$admin" host "${tf[@]}" "$hid" | grep -q "enrolled" || fail "host history"
"$admin" fleet "${tf[@]}" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["hosts"]==1, j' || fail "fleet --json"
"$admin" fleet --token-file "$work/ro.token" | grep -q "1 hosts behind" || fail "fleet table (read-only token)"
"$admin" audit "${tf[@]}" | grep -q "rollout.halt" || fail "audit"
set +e; NOREBOOT_ADMIN_TOKEN=nra_wrong "$admin" fleet 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "401" "$work/e" || fail "bad token: exit $rc $(cat "$work/e")"
set +e; "$admin" fleet 2>"$work/e"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "no admin token" "$work/e" || fail "missing token: exit $rc $(cat "$work/e")"
echo "== publish DIR: a fix's bundles and its signed record; fixes"
fd="$work/fixdir"; mkdir -p "$fd"
build57=57575757575757575757575757575757575757ff
cat >"$fd/m55.json" <<JSON
{"name": "nr_nfsd", "sequence": 7, "kernel": {"release": "6.1.0-55-amd64", "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1", "build_id": "55555555555555555555555555555555555555ff", "arch": "x86_64"},
 "module": {"vermagic": "6.1.0-55-amd64 SMP preempt mod_unload modversions"},
 "fixes": [{"id": "CVE-2026-99362", "description": "nfsd"}]}
JSON
"$admin" sign --key "$work/pub.key" --manifest "$fd/m55.json" --module "$work/nr_fix.ko" -o "$fd/6.1.0-55-amd64.nrp" >/dev/null
rm "$fd/m55.json"
python3 - "$fd" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
sha = hashlib.sha256(open(d + "/6.1.0-55-amd64.nrp", "rb").read()).hexdigest()
rec = {"format_version": 1, "fixes": [{"id": "CVE-2026-99362", "description": "nfsd"}],
       "patch": {"name": "nfsd.patch", "sha256": "c" * 64},
       "kernels": [{"release": "6.1.0-55-amd64", "version": "6.1.192-1", "outcome": "built",
                    "bundle": {"file": "6.1.0-55-amd64.nrp", "sha256": sha,
                               "build_id": "55555555555555555555555555555555555555ff", "module": "nr_nfsd", "sequence": 7}},
                   {"release": "6.1.0-57-amd64", "version": "6.1.192-3", "outcome": "already_fixed", "reason": ""}],
       "builder_version": "test", "created": "2026-12-02T00:00:00Z"}
open(d + "/fix.json", "w").write(json.dumps(rec, indent=2) + "\n")
PY
"$admin" sign --key "$work/pub.key" --record "$fd/fix.json" | grep -q "wrote $fd/fix.sig" || fail "sign --record"
# A record changed after signing is refused (exit 3, the server's 422), and nothing is stored.
cp -r "$fd" "$work/tampered"
sed -i 's/already_fixed/does_not_apply/' "$work/tampered/fix.json"
set +e; "$admin" publish "${tf[@]}" "$work/tampered" >/dev/null 2>"$work/e"; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "modified after signing" "$work/e" || fail "tampered record: exit $rc $(cat "$work/e")"
"$admin" fixes "${tf[@]}" --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["fixes"]==[]' || fail "a refused record was stored"
"$admin" publish "${tf[@]}" "$fd" | tee "$work/pubdir.txt"
grep -q "published nr_nfsd #7 for 6.1.0-55-amd64" "$work/pubdir.txt" || fail "publish DIR: bundle line"
grep -q "published fix record" "$work/pubdir.txt" || fail "publish DIR: record line"
# Hosts: one on the built kernel (exposed), one on the already fixed kernel.
for k in "6.1.0-55-amd64 55555555555555555555555555555555555555ff 6.1.192-1" "6.1.0-57-amd64 $build57 6.1.192-3"; do
  set -- $k
  curl -sf -H 'Content-Type: application/json' -X POST "$NOREBOOT_SERVER/v1/enroll" -d "{\"token\":\"$enroll\",\"hostname\":\"h-$1\",\"kernel\":{\"release\":\"$1\",\"version\":\"#1 SMP Debian $3 (2026-11-16)\",\"build_id\":\"$2\",\"arch\":\"x86_64\"}}" >/dev/null \
    || fail "enroll on $1"
done
"$admin" fixes "${tf[@]}" | tee "$work/fixes.txt"
grep -q "^CVE-2026-99362 *0 *1 *1 *0 *1 *nfsd" "$work/fixes.txt" || fail "fixes table"
"$admin" fixes "${tf[@]}" CVE-2026-99362 | tee "$work/fix.txt"
grep -q "exposed *1 *6.1.0-55-amd64 (1)" "$work/fix.txt" || fail "fixes ID: exposed"
grep -q "already_fixed *1 *6.1.0-57-amd64 (1, already_fixed)" "$work/fix.txt" || fail "fixes ID: already fixed"
curl -sf "$NOREBOOT_SERVER/metrics" | grep -q 'noreboot_hosts_exposed{fix="CVE-2026-99362"} 1' || fail "metrics gauge"
"$admin" rollout create "${tf[@]}" --fix CVE-2026-99362 --stage 100:0:0 --json >"$work/fr.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["fix"]=="CVE-2026-99362" and len(r["kernels"])==1 and r["counts"]["targeted"]==1, r' \
  "$work/fr.json" || fail "rollout create --fix"
"$admin" rollout status "${tf[@]}" | grep -Eq "fix CVE-2026-99362 +(running|completed)" || fail "rollout status shows the fix rollout"

echo "== fix approve: a rollout created awaiting approval starts when an operator approves it, once"
"$admin" rollout create "${tf[@]}" --fix CVE-2026-99362 --stage 1:600:0 --stage 100:0:0 --await-approval --json >"$work/ar.json"
arid=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["state"]=="awaiting_approval", r; print(r["id"])' "$work/ar.json") \
  || fail "rollout create --await-approval"
"$admin" rollout status "${tf[@]}" | grep -q "$arid.*awaiting_approval" || fail "rollout status does not show awaiting_approval"
"$admin" fleet "${tf[@]}" | grep -q "1 awaiting approval" || fail "fleet does not count the rollout awaiting approval"
set +e; "$admin" fix approve --token-file "$work/ro.token" CVE-2026-99362 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "403" "$work/e" || fail "a read-only token could approve: exit $rc $(cat "$work/e")"
"$admin" token create-admin "${tf[@]}" --role admin --name oncall-ana >"$work/ana.token" 2>/dev/null
"$admin" fix approve --token-file "$work/ana.token" CVE-2026-99362 | tee "$work/approve.txt"
grep -q "approved fix CVE-2026-99362" "$work/approve.txt" && grep -q "$arid.*running" "$work/approve.txt" || fail "fix approve output"
set +e; "$admin" fix approve "${tf[@]}" CVE-2026-99362 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "409" "$work/e" && grep -q "already approved" "$work/e" && grep -q "oncall-ana" "$work/e" ||
  fail "approving twice: exit $rc $(cat "$work/e")"
set +e; "$admin" fix approve "${tf[@]}" 'CVE 1' 2>"$work/e"; rc=$?; set -e
[ "$rc" = 2 ] || fail "a bad fix id: exit $rc $(cat "$work/e")"
"$admin" audit "${tf[@]}" | grep -q "(oncall-ana) *rollout.approve" || fail "the audit log does not name the approver"

echo "== numbers on the command line: digits only, else exit 2 naming the option (nothing sent)"
for bad in "pin web --until 12abc:--until" "pin web --until -1:--until" "token create-enrollment --ttl 5x:--ttl" \
           "token create-enrollment --max-uses 1e3:--max-uses" "rollout create --bundle $sha --stage 10:60x:--stage" \
           "rollout create --bundle $sha --stage nan:--stage"; do
  set +e; "$admin" ${bad%%:--*} "${tf[@]}" 2>"$work/e"; rc=$?; set -e
  [ "$rc" = 2 ] || fail "'${bad%%:--*}': exit $rc (want 2): $(cat "$work/e")"
  grep -q -- "--${bad##*:--} '" "$work/e" || fail "'${bad%%:--*}': the error does not name --${bad##*:--}: $(cat "$work/e")"
done

echo "admin-cli: all checks passed"
