#!/usr/bin/env bash
# Shell test (ctest label "shell"): kernel identity on REAL data, the Debian target kernel
# unpacked by scripts/kernel-fetch (cached; the first run downloads it).
#  - the build ID read from vmlinuz (bzImage, xz payload decompressed) equals the one read from
#    vmlinux, and both equal what `readelf -n` prints;
#  - the release and banner agree with the package (release = the ABI kernel-fetch reports);
#  - a bundle made for that identity verifies with `--kernel vmlinuz`, and one whose build ID
#    differs is refused with "build ID differs".
# Skips (exit 77) only when the kernel is not cached AND kernel-fetch cannot run (no network).
#   usage: kernel_identity_real.sh PATH/TO/noreboot-admin PROJECT_SOURCE_DIR
set -euo pipefail
ADMIN=$(realpath "$1")
SRC=$2
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, pass, finish, the work folder
TESTLIB_KEEP_GOING=1
testlib_workdir noreboot-kid-test
WORK=$work

echo "# fetching the target kernel (cached after the first run)"
if ! fetched=$("$SRC/scripts/kernel-fetch" --quiet 2>"$WORK/fetch.err"); then
  cat "$WORK/fetch.err"
  echo "SKIP: kernel-fetch failed and no kernel is cached"
  exit 77
fi
eval "$fetched"
echo "# ABI $NR_ABI; vmlinuz $NR_VMLINUZ; vmlinux $NR_VMLINUX"

start=$(date +%s.%N)
"$ADMIN" kernel-id --json "$NR_VMLINUZ" >"$WORK/vmlinuz.json"
mid=$(date +%s.%N)
"$ADMIN" kernel-id --json "$NR_VMLINUX" >"$WORK/vmlinux.json"
end=$(date +%s.%N)
printf '# kernel-id: vmlinuz %.2f s, vmlinux %.2f s\n' "$(echo "$mid - $start" | bc)" "$(echo "$end - $mid" | bc)"
readelf_id=$(readelf -n "$NR_VMLINUX" | awk '/Build ID:/ {print $3; exit}')
echo "# readelf -n: $readelf_id"

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
[[ -n $readelf_id ]] && pass "readelf found a build ID" || fail "readelf -n printed no build ID"
[[ $(field "$WORK/vmlinuz.json" build_id) == "$readelf_id" ]] && pass "vmlinuz build ID == readelf" \
  || fail "vmlinuz build ID $(field "$WORK/vmlinuz.json" build_id) != readelf $readelf_id"
[[ $(field "$WORK/vmlinux.json" build_id) == "$readelf_id" ]] && pass "vmlinux build ID == readelf" \
  || fail "vmlinux build ID $(field "$WORK/vmlinux.json" build_id) != readelf $readelf_id"
cmp -s "$WORK/vmlinuz.json" "$WORK/vmlinux.json" && pass "vmlinuz and vmlinux give the same identity" \
  || fail "identities differ: $(cat "$WORK/vmlinuz.json") vs $(cat "$WORK/vmlinux.json")"
[[ $(field "$WORK/vmlinuz.json" release) == "$NR_ABI" ]] && pass "release == $NR_ABI" \
  || fail "release $(field "$WORK/vmlinuz.json" release) != $NR_ABI"
[[ $(field "$WORK/vmlinuz.json" arch) == x86_64 ]] && pass "arch x86_64" || fail "arch"
version=$(field "$WORK/vmlinuz.json" version)
# The banner is what /proc/version prints: "Linux version <release> (...) #<n> SMP ...".
[[ $version =~ ^Linux\ version\ $NR_ABI\ \(.*\)\ \#[0-9]+\ SMP ]] && pass "banner: $version" || fail "banner: $version"
# file(1) reads the bzImage header's kernel_version string ("<release> (<by>) #<n> SMP ... (date)"):
# the banner must have the same release and the same uts version (from '#' on).
file_version=$(file -b "$NR_VMLINUZ" | sed -n 's/.*version \([^,]*\),.*/\1/p')
[[ $file_version == "$NR_ABI "* && $version == *"#${file_version#*#}" ]] \
  && pass "banner agrees with file(1): '$file_version'" || fail "file(1) says '$file_version'"

# A bundle for exactly this kernel verifies against the image; another build ID is refused.
cd "$WORK"
"$ADMIN" keygen k >/dev/null
printf 'int f(void) { return 1; }\n' >m.c && cc -c -o m.ko m.c
make_manifest() {
  python3 - "$1" "$2" <<'PY'
import json, sys
kid = json.load(open("vmlinuz.json"))
if sys.argv[2] != "same": kid["build_id"] = "00" * 20
json.dump({"name": "nr_real", "sequence": 1, "kernel": kid, "module": {"vermagic": "x"},
           "fixes": []}, open(sys.argv[1], "w"))
PY
}
make_manifest same.json same && "$ADMIN" sign --key k.key --manifest same.json --module m.ko -o same.nrp >/dev/null
make_manifest other.json other && "$ADMIN" sign --key k.key --manifest other.json --module m.ko -o other.nrp >/dev/null
if "$ADMIN" verify --trust k.pub --kernel "$NR_VMLINUZ" same.nrp >out 2>&1 && grep -q "matches the given kernel" out; then
  pass "bundle for this kernel verifies with --kernel vmlinuz"
else fail "verify --kernel: $(cat out)"; fi
rc=0; "$ADMIN" verify --trust k.pub --kernel "$NR_VMLINUX" other.nrp >out 2>&1 || rc=$?
if [[ $rc -eq 3 ]] && grep -q "build ID differs: bundle '0000.*', given kernel '" out; then
  pass "bundle for another build is refused: $(grep 'build ID' out | head -1)"
else fail "other build: exit $rc: $(cat out)"; fi

finish
