#!/usr/bin/env bash
# vm tier: Debian's own kernel security updates, built for several kernels with one command
# each, and loaded on the real kernels in QEMU.
#
# Nothing here names an ABI: the kernels are the three newest that Debian's archive serves
# with everything a build needs (kernel-fetch --list; on 2 Dec 2026: 6.1.0-55, -56, -57), and
# the two fixes are the differences between their linux-source packages, made at test time
# by scripts/debian-fix: OLD->MID (on 2 Dec: ext4 "fix NULL folio dereference in mballoc") and
# MID->NEW (nfsd "preflight SEQUENCE replies", CVE-2026-99362). So:
#   fix 1 (OLD->MID): OLD built; MID and NEW already fixed (their source contains it);
#   fix 2 (MID->NEW), on top of fix 1's bundles: OLD gets the cumulative patch (fix 1 + fix 2),
#         MID the fix alone (it had no earlier patch), NEW already fixed.
# Then, one boot per kernel:
#   OLD: fix 1 loads while its target module is not loaded, patches it when it loads, survives
#        real ext4 I/O; the cumulative patch replaces it with sunrpc not loaded (no module
#        dependency), patches nfsd when it loads (sunrpc comes with it), ext4 I/O again;
#   MID: fix 2 loads without nfsd/sunrpc and patches nfsd when it loads.
# The fixes touch modules that call other modules (nfsd -> sunrpc): every bundle's module
# must have an empty depends=.
# NOREBOOT_DEBIAN_FIXES=all: build both fixes for debian:all (every kernel the archive serves)
# instead of the three newest, and boot every kernel that got a bundle (the benchmark's proof
# for the whole archive; about 6-10 minutes per extra kernel, cold).
# Usage: debian-fixes.sh NOREBOOT_BUILD
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
vm_run=${NOREBOOT_VM_RUN:-$repo/tests/vm/vm-run}
. "$repo/tests/lib/testlib.sh"   # fail, the work folder removed at exit, newest_kernels
testlib_workdir nr-debian-fixes
T=$work
export XDG_CONFIG_HOME=$T/config   # a throw-away publisher key

newest_kernels 3
read -r old_abi old_v <<< "${kernels[0]}"
read -r mid_abi mid_v <<< "${kernels[1]}"
read -r new_abi new_v <<< "${kernels[2]}"
echo "kernels: $old_abi ($old_v), $mid_abi ($mid_v), $new_abi ($new_v)"

"$repo/scripts/debian-fix" "$old_v" "$mid_v" -o "$T/fix1.patch" ||
  fail "$old_v -> $mid_v is not a small security update (scripts/debian-fix above); this test needs the newest three kernels to differ by security fixes"
"$repo/scripts/debian-fix" "$mid_v" "$new_v" -o "$T/fix2.patch" ||
  fail "$mid_v -> $new_v is not a small security update"
k=(--kernel "debian:$old_abi" --kernel "debian:$mid_abi" --kernel "debian:$new_abi")
all=0
[ "${NOREBOOT_DEBIAN_FIXES:-}" = all ] && { all=1; k=(--kernel debian:all); }
# build DIR ARGS...: exit 0, or (debian:all) 3 with nothing refused or failed: some older
# kernel needs a backport, which is an answer, not an error.
build_fix() {
  local dir=$1; shift
  local rc=0
  "$build" "${k[@]}" "$@" -o "$T/$dir" > "$T/$dir.log" 2>&1 || rc=$?
  sed -n '/^summary/,$p' "$T/$dir.log"
  if [ $rc -eq 3 ] && [ $all = 1 ] &&
     [ "$(jq '[.kernels[] | select(.outcome == "refused" or .outcome == "failed")] | length' "$T/$dir/summary.json")" = 0 ]; then
    rc=0
  fi
  [ $rc -eq 0 ] || { cat "$T/$dir.log"; fail "building $dir (exit $rc)"; }
}

outcome() { jq -r --arg a "$2" '.kernels[] | select(.abi == $a) | .outcome' "$1/summary.json"; }
expect() {  # expect DIR ABI OUTCOME
  got=$(outcome "$1" "$2")
  [ "$got" = "$3" ] || { cat "$1/summary.json"; fail "$(basename "$1"): $2 is '$got', expected '$3'"; }
  echo "ok $(basename "$1"): $2 $3"
}
modinfo_of() { tar -xOf "$1" --wildcards '*.ko' > "$T/m.ko" && /sbin/modinfo -F "$2" "$T/m.ko"; }
name_of() { tar -xOf "$1" manifest.json | jq -r .name; }
check_bundle() {  # check_bundle NRP SOURCES: no module dependency; SOURCES fixes carried
  deps=$(modinfo_of "$1" depends)
  [ -z "$deps" ] || fail "$1: the livepatch depends on '$deps' (it could not load where those are not loaded)"
  n=$(tar -xOf "$1" manifest.json | jq '.sources | length')
  [ "$n" = "$2" ] || fail "$1 carries $n source fix(es), expected $2"
  echo "ok $(basename "$1"): depends= empty, $n source fix(es), $(name_of "$1")"
}

start=$SECONDS
build_fix fix1 --patch "$T/fix1.patch" --fix "DEBIAN-$mid_v:Debian $mid_v"
echo "fix 1 built in $((SECONDS - start)) s"
expect "$T/fix1" "$old_abi" built
expect "$T/fix1" "$mid_abi" already_fixed
expect "$T/fix1" "$new_abi" already_fixed
[ ! -e "$T/fix1/$mid_abi.nrp" ] || fail "a bundle was written for $mid_abi, whose source already has fix 1"
check_bundle "$T/fix1/$old_abi.nrp" 1

start=$SECONDS
build_fix fix2 --patch "$T/fix2.patch" --fix "DEBIAN-$new_v:Debian $new_v" --on-top-of "$T/fix1"
echo "fix 2 built in $((SECONDS - start)) s"
expect "$T/fix2" "$old_abi" built
expect "$T/fix2" "$mid_abi" built
expect "$T/fix2" "$new_abi" already_fixed
check_bundle "$T/fix2/$old_abi.nrp" 2
check_bundle "$T/fix2/$mid_abi.nrp" 1
s1=$(tar -xOf "$T/fix1/$old_abi.nrp" manifest.json | jq .sequence)
s2=$(tar -xOf "$T/fix2/$old_abi.nrp" manifest.json | jq .sequence)
[ "$s2" -gt "$s1" ] || fail "the cumulative patch's sequence $s2 is not above the first patch's $s1"
[ "$(name_of "$T/fix2/$old_abi.nrp")" != "$(name_of "$T/fix1/$old_abi.nrp")" ] || fail "the cumulative patch has the first one's module name"

mkdir -p "$T/ko"
boot() {  # boot ABI MODE ARGS...
  local abi=$1; shift
  eval "$("$repo/scripts/kernel-fetch" --abi "$abi" --quiet)"
  local rc=0
  "$vm_run" --abi "$abi" --timeout 900 --mem 1536 --share "$T/ko" --share "$here" --share "$NR_ROOT" \
    --env "MODDIR=$NR_MODDIR" -- sh "$here/debian-fixes-guest.sh" "$@" > "$T/out" 2>&1 || rc=$?
  sed "s/^/  [$abi] /" "$T/out"
  grep -q '^PASS$' "$T/out" && [ $rc -eq 0 ] || fail "the guest on $abi (exit $rc)"
}
# One boot per kernel that got a bundle: what it got decides what the guest checks.
booted=0
for abi in $(jq -r '.kernels[].abi' "$T/fix2/summary.json"); do
  b1=$T/fix1/$abi.nrp b2=$T/fix2/$abi.nrp
  [ -f "$b1" ] && tar -xOf "$b1" --wildcards '*.ko' > "$T/ko/fix1-$abi.ko"
  [ -f "$b2" ] && tar -xOf "$b2" --wildcards '*.ko' > "$T/ko/fix2-$abi.ko"
  if [ -f "$b1" ] && [ -f "$b2" ]; then
    check_bundle "$b2" 2
    boot "$abi" ext4-then-cumulative "$T/ko/fix1-$abi.ko" "$(name_of "$b1")" "$T/ko/fix2-$abi.ko" "$(name_of "$b2")"
  elif [ -f "$b2" ]; then
    boot "$abi" nfsd "$T/ko/fix2-$abi.ko" "$(name_of "$b2")"
  elif [ -f "$b1" ]; then
    boot "$abi" ext4 "$T/ko/fix1-$abi.ko" "$(name_of "$b1")"
  else
    continue
  fi
  booted=$((booted + 1))
done
[ $booted -ge 2 ] || fail "only $booted kernel(s) got a bundle to boot"
echo "booted $booted kernel(s)"
echo PASS
