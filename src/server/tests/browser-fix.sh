#!/usr/bin/env bash
# The fix page in Debian's headless chromium, driven like a person would (ctest: browser_fix,
# label browser). A fix with a bundle for one kernel and "already fixed" on another is
# published with its signed record; a fix rollout starts; hosts on both kernels check in, some
# report the fix applied, one reports a failure. Chromium (over the DevTools pipe, cdp.py)
# logs in through the login form, opens the fix page, checks the exposure counts (the same as
# GET /v1/fixes/{id}) and the timeline SVG, presses Halt, sees the rollout halted (and the API
# agrees), presses Resume, sees it running again. Screenshots of each step are kept in
# ARTIFACTS (default: the current directory, the build dir under ctest).
set -euo pipefail
server=${1:?usage: browser-fix.sh NOREBOOT-SERVER NOREBOOT-ADMIN [ARTIFACTS]}
admin=${2:?}
artifacts=$(realpath "${3:-.}")
command -v chromium >/dev/null || { echo "chromium not installed (scripts/setup)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/nr-browser-fix.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  [ -n "${NR_KEEP:-}" ] || rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, on_exit (the shell test library)
on_exit cleanup
mkdir -p "$artifacts"

. "$here/test-bundle.sh"
make_test_bundle "$admin" "$work"

"$server" --listen 127.0.0.1:0 --data "$work/data" --trust "$work/pub.pub" --log-format text >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
export NOREBOOT_SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
[ -n "$NOREBOOT_SERVER" ] || fail "server did not start: $(cat "$work/err")"
export NOREBOOT_ADMIN_TOKEN=$(cat "$work/data/admin.token")

echo "== a fix: a bundle for 6.1.0-55, already fixed in 6.1.0-57; its signed record"
fd="$work/fixdir"; mkdir -p "$fd"
b55=55555555555555555555555555555555555555ff
b57=57575757575757575757575757575757575757ff
cat >"$work/m55.json" <<JSON
{"name": "nr_nfsd", "sequence": 7, "kernel": {"release": "6.1.0-55-amd64", "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1", "build_id": "$b55", "arch": "x86_64"},
 "module": {"vermagic": "6.1.0-55-amd64 SMP preempt mod_unload modversions"},
 "fixes": [{"id": "CVE-2026-99362", "description": "nfsd: use after free"}]}
JSON
"$admin" sign --key "$work/pub.key" --manifest "$work/m55.json" --module "$work/nr_fix.ko" -o "$fd/6.1.0-55-amd64.nrp" >/dev/null
python3 - "$fd" "$b55" <<'PY'
import hashlib, json, sys
d, build = sys.argv[1], sys.argv[2]
sha = hashlib.sha256(open(d + "/6.1.0-55-amd64.nrp", "rb").read()).hexdigest()
rec = {"format_version": 1, "fixes": [{"id": "CVE-2026-99362", "description": "nfsd: use after free"}],
       "patch": {"name": "nfsd.patch", "sha256": "c" * 64},
       "kernels": [{"release": "6.1.0-55-amd64", "version": "6.1.192-1", "outcome": "built",
                    "bundle": {"file": "6.1.0-55-amd64.nrp", "sha256": sha, "build_id": build, "module": "nr_nfsd",
                               "sequence": 7}},
                   {"release": "6.1.0-57-amd64", "version": "6.1.192-3", "outcome": "already_fixed", "reason": ""}],
       "builder_version": "test", "created": "2026-12-02T00:00:00Z"}
open(d + "/fix.json", "w").write(json.dumps(rec, indent=2) + "\n")
PY
"$admin" sign --key "$work/pub.key" --record "$fd/fix.json" >/dev/null
"$admin" publish "$fd" >/dev/null
sha=$(sha256sum "$fd/6.1.0-55-amd64.nrp" | cut -d' ' -f1)
enroll=$("$admin" token create-enrollment --group web 2>/dev/null)
rid=$("$admin" rollout create --fix CVE-2026-99362 --stage 100:3600:5 --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "== 6 hosts on 6.1.0-55 (3 apply it, 1 fails), 2 on 6.1.0-57"
k55='{"release":"6.1.0-55-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2026-11-16)","build_id":"'$b55'","arch":"x86_64"}'
k57='{"release":"6.1.0-57-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-16)","build_id":"'$b57'","arch":"x86_64"}'
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
for i in 1 2 3 4 5 6 7 8; do
  k=$k55; [ "$i" -gt 6 ] && k=$k57
  j=$(curl -sf -H 'Content-Type: application/json' -X POST "$NOREBOOT_SERVER/v1/enroll" -d "{\"token\":\"$enroll\",\"hostname\":\"web-$i\",\"kernel\":$k}")
  cred=$(echo "$j" | field credential); hid=$(echo "$j" | field host_id)
  offer=$(curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $cred" "$NOREBOOT_SERVER/v1/checkin" -d "{\"kernel\":$k,\"state\":\"idle\"}")
  if [ "$i" -le 3 ]; then
    echo "$offer" | grep -q "\"sha256\":\"$sha\"" || fail "host $i was not offered the fix: $offer"
    curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $cred" "$NOREBOOT_SERVER/v1/report" -d "{\"host_id\":\"$hid\",\"state\":\"applied\",\"kernel\":$k,\"bundle_sha256\":\"$sha\",\"applied\":{\"name\":\"nr_nfsd\",\"sequence\":7,\"bundle_sha256\":\"$sha\"}}" >/dev/null
  elif [ "$i" = 4 ]; then
    curl -sf -H 'Content-Type: application/json' -X POST -H "Authorization: Bearer $cred" "$NOREBOOT_SERVER/v1/report" -d "{\"host_id\":\"$hid\",\"state\":\"failed\",\"kernel\":$k,\"bundle_sha256\":\"$sha\",\"errors\":[\"transition stuck\"]}" >/dev/null
  fi
done
api=$(curl -sf -H "Authorization: Bearer $NOREBOOT_ADMIN_TOKEN" "$NOREBOOT_SERVER/v1/fixes/CVE-2026-99362")
echo "$api" | python3 -c '
import json, sys
h = json.load(sys.stdin)["hosts"]
assert (h["patched"]["count"], h["exposed"]["count"], h["already_fixed"]["count"]) == (3, 3, 2), h' ||
  fail "API exposure is not what the hosts reported: $api"

echo "== chromium"
NR_TESTS_DIR=$here python3 - "$NOREBOOT_SERVER" "$NOREBOOT_ADMIN_TOKEN" "$rid" "$work/profile" "$work/chromium.log" "$artifacts" <<'PY'
import json, os, sys, urllib.request
sys.path.insert(0, os.environ["NR_TESTS_DIR"])
from cdp import Browser
server, token, rid, profile, log, artifacts = sys.argv[1:7]

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def api_state():
    req = urllib.request.Request(f"{server}/v1/rollouts/{rid}", headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))["state"]

b = Browser(profile, log)
try:
    b.goto(server + "/fixes/CVE-2026-99362")
    if 'action="/login"' not in b.html():
        fail("without a session the fix page does not ask to log in")
    # Log in through the form, as a person would. A POST-and-redirect can leave chromium
    # between documents on a busy machine: the login is tried up to three times.
    for attempt in range(3):
        b.goto(server + "/login")
        b.evaluate(f"document.querySelector('input[name=token]').value = {json.dumps(token)};"
                   "document.querySelector('form[action=\"/login\"] button').click(); true")
        try:
            b.wait_for("location.pathname === '/' && !!document.getElementById('host-count')", timeout=30)
            break
        except TimeoutError:
            print(f"   login attempt {attempt + 1} did not give a session", file=sys.stderr)
    else:
        fail("could not log in through the form")
    if f'href="/fixes/CVE-2026-99362"' not in b.html():
        fail("the fleet page does not link the fix page")

    b.goto(server + "/fixes/CVE-2026-99362")
    page = b.html()
    b.screenshot(artifacts + "/browser_fix-1-page.png")
    for group, n in (("patched", 3), ("exposed", 3), ("already_fixed", 2)):
        if f'id="count-{group}">{n}<' not in page:
            fail(f"fix page: {group} should be {n}")
    if not b.evaluate("!!document.querySelector('svg#timeline polyline#timeline-patched')"):
        fail("fix page: no timeline SVG")
    if "patched 3</text>" not in page or "failed 1</text>" not in page:
        fail("fix page: the timeline does not count 3 patched and 1 failed")
    if not b.evaluate(f"document.getElementById('{rid}').querySelector('td.running') !== null"):
        fail("fix page: the rollout is not shown running")

    b.evaluate(f"document.getElementById('halt-{rid}').click(); true")
    b.wait_for(f"document.readyState === 'complete' && !!document.getElementById('resume-{rid}')")
    b.screenshot(artifacts + "/browser_fix-2-halted.png")
    if not b.evaluate(f"document.getElementById('{rid}').querySelector('td.halted') !== null"):
        fail("after Halt: the rollout is not shown halted")
    if not b.evaluate("!!document.querySelector('svg#timeline g.mark[data-kind=halt]')"):
        fail("after Halt: the timeline does not mark the halt")
    if api_state() != "halted":
        fail("after Halt: the API does not say halted")

    b.evaluate(f"document.getElementById('resume-{rid}').click(); true")
    b.wait_for(f"document.readyState === 'complete' && !!document.getElementById('halt-{rid}')")
    b.screenshot(artifacts + "/browser_fix-3-resumed.png")
    if api_state() != "running":
        fail("after Resume: the API does not say running")
finally:
    b.close()
print("browser-fix: chromium checks passed")
PY
echo "browser-fix: all checks passed (screenshots in $artifacts)"
