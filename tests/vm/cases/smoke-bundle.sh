#!/usr/bin/env bash
# vm tier, the product's bundle test (scripts/noreboot-vm smoke, what noreboot-feed runs before
# publishing): the hand-written livepatch sample, wrapped like a bundle (a tar with
# manifest.json naming the module, and the .ko), passes: loaded, transition finished, kernel
# log clean, disabled, unloaded. A file that is not a bundle is refused before any boot (125).
. "$(dirname "$0")/lib.sh"
NOREBOOT_VM=$VM/../../scripts/noreboot-vm
abi=$(current_abi)
ko=$("$BUILD_MODULE" "$VM/modules/livepatch-sample" "$T/mod")
name=$(modinfo -F name "$ko")
mkdir -p "$T/b"
cp "$ko" "$T/b/$name.ko"
printf '{"name": "%s", "sequence": 1}\n' "$name" > "$T/b/manifest.json"
tar -cf "$T/sample.nrp" -C "$T/b" manifest.json "$name.ko"
echo "not a bundle" > "$T/junk.nrp"
rc=0; "$NOREBOOT_VM" smoke --abi "$abi" "$T/junk.nrp" > "$T/out" 2> "$T/err" || rc=$?
expect_rc 125 "$rc" "smoke on a file that is not a bundle"
expect_line "$T/err" "is not a bundle" "it says the file is not a bundle"
rc=0
"$NOREBOOT_VM" smoke --abi "$abi" --timeout 500 "$T/sample.nrp" > "$T/out" 2> "$T/err" || rc=$?
sed 's/^/  [noreboot-vm stderr] /' "$T/err"
cat "$T/out"
expect_rc 0 "$rc" "noreboot-vm smoke on the sample bundle"
expect_line "$T/out" "^ok $name loaded on $abi, transition finished" "loaded, transition finished"
expect_line "$T/out" "^ok kernel log clean" "kernel log clean"
expect_line "$T/out" "^ok $name disabled and removed" "disabled and removed"
expect_line "$T/out" '^PASS$' "PASS"
