#!/usr/bin/env bash
# vm tier, the fix corpus end to end: build every buildable fix of tests/patches with
# noreboot-build (NAME.patch + NAME.check), check each bundle's layout, then in ONE boot of the
# target kernel load, check, disable, unload and re-check every module, and replace one
# cumulative patch with another (guest-corpus.sh). Usage: run-corpus.sh NOREBOOT_BUILD
# NOREBOOT_CORPUS="NAME..." (for working on a few cases) builds and runs only those, in one
# boot, without the count check and without the cumulative pair; CI runs them all.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-corpus   # build, $T, fail, finish
vm_run=${NOREBOOT_VM_RUN:-$repo/tests/vm/vm-run}
[ -x "$vm_run" ] || fail "$vm_run missing (the vm harness, tests/vm)"
mkdir -p "$T/ko"

names=() seq=0 only=${NOREBOOT_CORPUS:-}
for check in "$here"/*.check; do
  n=$(basename "$check" .check)
  if [ -n "$only" ] && ! printf ' %s ' $only | grep -q " $n "; then continue; fi
  seq=$((seq + 1))
  start=$SECONDS
  if ! "$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/$n.patch" --sequence $seq \
      --fix "TEST-$seq:corpus fix $n" -o "$T/$n.nrp" > "$T/$n.log" 2>&1; then
    sed 's/^/  /' "$T/$n.log"; fail "build $n (the builder's output above)"
  fi
  members=$(tar -tf "$T/$n.nrp" | sort | tr '\n' ' ')
  [ "$members" = "manifest.json manifest.sig nr_${n//-/_}.ko " ] || fail "bundle $n has: $members"
  tar -xf "$T/$n.nrp" -C "$T/ko" "nr_${n//-/_}.ko"
  mv "$T/ko/nr_${n//-/_}.ko" "$T/ko/$n.ko"
  echo "built $n in $((SECONDS - start)) s: $(grep '^  total' "$T/$n.log" | awk '{print $2}') s by its own timing"
  [ "$n" = cmdline-v2 ] || names+=("$n")
done
pair=(cmdline cmdline-v2)
if [ -n "$only" ]; then
  [ ${#names[@]} -ge 1 ] || fail "NOREBOOT_CORPUS='$only' names no NAME.check"
  pair=()
else
  [ ${#names[@]} -ge 10 ] || fail "only ${#names[@]} buildable fixes"
fi

eval "$("$repo/scripts/kernel-fetch" --abi "${NOREBOOT_ABI:-current}" --quiet)"
rc=0
"$vm_run" --timeout 900 --share "$T/ko" --share "$here" --share "$NR_MODDIR" --env "MODDIR=$NR_MODDIR" -- sh "$here/guest-corpus.sh" "$T/ko" "$here" \
  "${names[@]}" -- "${pair[@]}" > "$T/out" 2>&1 || rc=$?
cat "$T/out"
TESTLIB_KEEP_GOING=1   # from here on every missing result is reported
for n in "${names[@]}"; do grep -q "^ok $n\( (.*)\)\?\$" "$T/out" || fail "no 'ok $n' from the guest"; done
[ ${#pair[@]} -eq 0 ] || grep -q '^ok cumulative cmdline -> cmdline-v2$' "$T/out" || fail "cumulative replace"
grep -q '^PASS$' "$T/out" || fail "the guest did not say PASS"
[ $rc -eq 0 ] || fail "vm-run exited $rc"
finish
