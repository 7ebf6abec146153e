#!/usr/bin/env bash
# vm tier, agent: the host commands of `noreboot` on Debian's real kernel, in ONE boot.
#
#   vm_agent.sh NOREBOOT NOREBOOT_ADMIN
#
# On the host: build the test livepatches (modules/fix: two cumulative patches of
# cmdline_proc_show; modules/stall_target + stall_patch: a thread that never leaves the
# function the patch replaces) with tests/vm/build-module, read the target kernel's identity
# from its vmlinux (noreboot-admin kernel-id), make publisher keys and sign bundles with
# noreboot-admin: good ones (sequence 1, 2, 3), one for another build ID, one signed by an
# untrusted key, one whose module was altered after signing. In the guest (vm_agent_guest.sh):
# apply -> effect -> status -> refusals -> newer replaces older -> rollback refused -> revert ->
# stalled transition signalled, reversed and reported. Every step is asserted there.
. "$(dirname "$0")/vm_lib.sh"   # vm cases' lib on testlib, NOREBOOT, ADMIN, HERE, $T/id.json, the publisher key
for d in fix stall_target stall_patch; do
  "$BUILD_MODULE" "$HERE/modules/$d" "$T/mod" > /dev/null || fail "build-module $d"
done
ok "built the test modules: $(cd "$T/mod" && echo *.ko)"

"$ADMIN" keygen "$T/keys/stranger" > /dev/null || fail "keygen stranger"

# manifest NAME SEQUENCE [BUILD_ID]: a manifest template for noreboot-admin sign
manifest() {
  python3 - "$T/id.json" "$1" "$2" "${3:-}" <<'PY'
import json, sys
ident = json.load(open(sys.argv[1]))
if sys.argv[4]:
    ident["build_id"] = sys.argv[4]
print(json.dumps({"name": sys.argv[2], "sequence": int(sys.argv[3]), "kernel": ident,
                  "fixes": [{"id": "NR-TEST-" + sys.argv[3], "description": "agent vm test " + sys.argv[2]}]}))
PY
}
# sign OUT NAME SEQUENCE KEY [BUILD_ID]
sign() {
  manifest "$2" "$3" "${5:-}" > "$T/b/$1.json"
  "$ADMIN" sign --key "$T/keys/$4.key" --manifest "$T/b/$1.json" --module "$T/mod/$2.ko" -o "$T/b/$1.nrp" > /dev/null \
    || fail "noreboot-admin sign $1"
}
sign fix1 nr_agent_fix1 1 publisher
sign fix2 nr_agent_fix2 2 publisher
sign stall nr_agent_stall 3 publisher
sign wrongkernel nr_agent_fix2 4 publisher 00112233445566778899aabbccddeeff00112233
sign stranger nr_agent_fix2 5 stranger
sign tampered nr_agent_fix2 6 publisher
python3 - "$T/b/tampered.nrp" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
i = data.find(b"NR-AGENT-FIX-2")
assert i > 0, "marker not found in the bundle"
data[i + 13] = ord("X")  # the module no longer matches the signed SHA-256
open(p, "wb").write(data)
PY
cp "$T/mod/nr_stall_target.ko" "$T/b/"
ok "signed the test bundles for $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["release"], d["build_id"])' "$T/id.json")"

cat > "$T/cfg/agent.toml" <<'TOML'
[timeouts]
transition_seconds = 4
signal_seconds = 3
reverse_seconds = 30
watch_seconds = 1
settle_seconds = 5
TOML

rc=0
vm "$T/out" "$T/err" --timeout 400 --share "$T" --share "$(dirname "$NOREBOOT")" --share "$HERE" -- \
  sh "$HERE/vm_agent_guest.sh" "$NOREBOOT" "$T/cfg/agent.toml" "$T/b" "$T/keys/publisher.pub" || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest agent script"
expect_line "$T/out" '^PASS$' "every guest step passed"
for s in "applied fix1" "status shows fix1" "tampered refused" "wrong kernel refused" "untrusted refused" \
         "fix2 replaced fix1" "rollback refused" "reverted" "stall reversed and reported"; do
  expect_line "$T/out" "^step: $s" "guest step: $s"
done
grep '^timing' "$T/out" | sed 's/^/measured: /'
