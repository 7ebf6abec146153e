#!/usr/bin/env bash
# VM test (ctest label "vm"): the identity read from the RUNNING target kernel (inside QEMU, from
# /proc and /sys/kernel/notes) equals the identity read from its vmlinuz file on the host, field
# by field (release, /proc/version text vs. the image's banner, build ID, arch). Then a bundle
# made for the image's identity passes `verify --running-kernel` inside the guest, and one made
# for another build ID is refused there. This is what lets the builder target a kernel it never
# booted and the agent accept exactly that bundle.
#   usage: kernel_identity_vm.sh PATH/TO/noreboot-admin PROJECT_SOURCE_DIR
set -euo pipefail
ADMIN=$(realpath "$1")
SRC=$(realpath "$2")
. "$SRC/tests/lib/testlib.sh"   # pass, fail (counting: every check reports), finish
TESTLIB_KEEP_GOING=1
testlib_workdir noreboot-kid-vm
WORK=$work

eval "$("$SRC/scripts/kernel-fetch" --quiet)"
"$ADMIN" kernel-id --json "$NR_VMLINUZ" >"$WORK/image.json"
cd "$WORK"
"$ADMIN" keygen k >/dev/null
printf 'int f(void) { return 1; }\n' >m.c && cc -c -o m.ko m.c
for kind in same other; do
  python3 - "$kind" <<'PY'
import json, sys
kid = json.load(open("image.json"))
if sys.argv[1] == "other": kid["build_id"] = "ab" * 20
json.dump({"name": "nr_vm_" + sys.argv[1], "sequence": 1, "kernel": kid,
           "module": {"vermagic": "x"}, "fixes": []}, open(sys.argv[1] + ".json", "w"))
PY
  "$ADMIN" sign --key k.key --manifest $kind.json --module m.ko -o $kind.nrp >/dev/null
done
cp "$ADMIN" "$WORK/noreboot-admin"

cat >"$WORK/guest.sh" <<'SH'
cd "$1"
./noreboot-admin kernel-id --running --json > "$NOREBOOT_SCRATCH/running.json" || exit 10
cat "$NOREBOOT_SCRATCH/running.json"
echo "--- same"
./noreboot-admin verify --trust k.pub --running-kernel same.nrp 2>&1; echo "same-exit=$?"
echo "--- other"
./noreboot-admin verify --trust k.pub --running-kernel other.nrp 2>&1; echo "other-exit=$?"
SH
echo "# booting the target kernel"
rc=0
"$SRC/tests/vm/vm-run" --share "$WORK" --timeout 300 -- sh "$WORK/guest.sh" "$WORK" >"$WORK/guest.out" 2>"$WORK/guest.err" || rc=$?
cat "$WORK/guest.out"
if [[ $rc -ne 0 ]]; then cat "$WORK/guest.err"; fail "vm-run exit $rc"; exit 1; fi

head -1 "$WORK/guest.out" >"$WORK/running.json"
python3 - <<'PY' && pass "running kernel identity == vmlinuz identity (release, version, build ID, arch)" || fail "identities differ"
import json
a = json.load(open("image.json")); b = json.load(open("running.json"))
bad = [k for k in ("release", "version", "build_id", "arch") if a[k] != b[k]]
for k in bad: print(f"  {k}: image {a[k]!r} running {b[k]!r}")
raise SystemExit(1 if bad else 0)
PY
grep -q '^same-exit=0$' "$WORK/guest.out" && grep -q 'matches the running kernel' "$WORK/guest.out" \
  && pass "bundle for this kernel verifies in the guest" || fail "same.nrp did not verify in the guest"
grep -q '^other-exit=3$' "$WORK/guest.out" && grep -q "build ID differs: bundle 'abab" "$WORK/guest.out" \
  && pass "bundle for another build is refused in the guest" || fail "other.nrp was not refused as expected"

finish
