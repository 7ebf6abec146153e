#!/usr/bin/env bash
# Admins who must not lock themselves out, and hosts that can be cut off (ctest:
# admin_recovery, label unit; issue 17 items 3 and 9), with the real binaries:
#  - a first start whose admin.token cannot be written commits no token, and the next start
#    writes one that works;
#  - the last admin-role token cannot be revoked (noreboot-admin exits 1 with the 409);
#  - `noreboot-server admin-token` mints a working admin token straight in the store while the
#    server runs;
#  - `noreboot-admin host revoke ID`: the host's check-ins get 401 from then on.
set -euo pipefail
server=${1:?usage: admin-recovery.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
admin=${2:?usage: admin-recovery.sh NOREBOOT-SERVER NOREBOOT-ADMIN}
work=$(mktemp -d /tmp/nr-recovery.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail (with the server log tail), on_exit
on_exit cleanup
TESTLIB_LOGS=("$work/err")

. "$(dirname "$0")/test-bundle.sh"
make_test_bundle "$admin" "$work"
data="$work/data"

echo "== first start: admin.token cannot be written (a directory in its place)"
mkdir -p "$data/admin.token"
set +e
"$server" --listen 127.0.0.1:0 --data "$data" --trust "$work/pub.pub" --log-format text >"$work/out" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "start with an unwritable admin.token: exit $rc (want 1)"
grep -q "admin.token" "$work/err" || fail "the error does not name admin.token: $(cat "$work/err")"
rmdir "$data/admin.token"

echo "== second start: a token is written, and it works"
"$server" --listen 127.0.0.1:0 --data "$data" --trust "$work/pub.pub" --log-format text >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
export NOREBOOT_SERVER=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
[ -n "$NOREBOOT_SERVER" ] || fail "server did not start"
[ -s "$data/admin.token" ] || fail "no admin.token after the second start"
[ "$(stat -c %a "$data/admin.token")" = 600 ] || fail "admin.token is not mode 0600"
tf=(--token-file "$data/admin.token")
"$admin" fleet "${tf[@]}" >/dev/null || fail "the written admin token does not work"

echo "== the last admin-role token cannot be revoked"
boot_id=$("$admin" token list --admin "${tf[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"][0]["id"])')
"$admin" token create-admin "${tf[@]}" --role read --name viewer >/dev/null
set +e; "$admin" token revoke "$boot_id" --admin "${tf[@]}" >/dev/null 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "409" "$work/e" && grep -q "last usable admin-role token" "$work/e" ||
  fail "revoking the last admin token: exit $rc $(cat "$work/e")"
"$admin" fleet "${tf[@]}" >/dev/null || fail "the admin token stopped working"

echo "== noreboot-server admin-token: a new admin token straight in the store, server running"
rm "$data/admin.token"  # lost
new=$("$server" admin-token --data "$data" 2>"$work/e2") || fail "admin-token: $(cat "$work/e2")"
case "$new" in nra_*) ;; *) fail "admin-token printed '$new'";; esac
NOREBOOT_ADMIN_TOKEN=$new "$admin" token create-admin --role admin --name ops >/dev/null ||
  fail "the recovery token cannot create tokens"
NOREBOOT_ADMIN_TOKEN=$new "$admin" audit | grep -q "token.recovery" || fail "no token.recovery in the audit log"
set +e; "$server" admin-token --data "$data" --bogus x >/dev/null 2>"$work/e3"; rc=$?; set -e
[ "$rc" = 2 ] || fail "admin-token with a bad option: exit $rc (want 2)"

echo "== noreboot-admin host revoke: the host's credential stops working"
export NOREBOOT_ADMIN_TOKEN=$new
enroll=$("$admin" token create-enrollment --group web 2>/dev/null)
j=$(curl -sf -H 'Content-Type: application/json' -X POST "$NOREBOOT_SERVER/v1/enroll" -d "{\"token\":\"$enroll\",\"hostname\":\"web-1\",\"kernel\":$kernel}")
cred=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"])')
hid=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_id"])')
checkin() {
  curl -s -H 'Content-Type: application/json' -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $cred" "$NOREBOOT_SERVER/v1/checkin" \
    -d "{\"kernel\":$kernel,\"applied\":null,\"state\":\"idle\"}"
}
[ "$(checkin)" = 200 ] || fail "check-in before the revocation"
"$admin" host revoke "$hid" | grep -q "revoked host $hid" || fail "host revoke output"
[ "$(checkin)" = 401 ] || fail "a revoked host's check-in was not refused with 401"
"$admin" host "$hid" | grep -q "state revoked" || fail "the host does not show as revoked"
set +e; "$admin" host revoke h_000000000000000000000000 >/dev/null 2>"$work/e"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "404" "$work/e" || fail "revoking an unknown host: exit $rc $(cat "$work/e")"
"$admin" token list | grep -q "web.*1/100" || fail "an enrollment token without --max-uses is not limited to 100"
echo "admin-recovery: all checks passed"
