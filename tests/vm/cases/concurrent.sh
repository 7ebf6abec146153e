#!/usr/bin/env bash
# vm tier, concurrency and the initramfs cache: two vm-runs started at the same moment on a
# cold initramfs cache (a private NOREBOOT_CACHE that links the real kernel) both succeed,
# with their own outputs; exactly one of them builds the initramfs (the other waits on the
# lock), exactly one image ends up in the cache with no temporary leftovers, and a share
# whose path holds a comma (QEMU's option separator) works.
. "$(dirname "$0")/lib.sh"
real=$("$VM/../../scripts/kernel-fetch" --abi "$NOREBOOT_ABI" | sed -n 's/^NR_KDIR=//p')
k=$T/cache/kernels/$NOREBOOT_ABI
mkdir -p "$k" "$T/odd,name"
for f in root root.done vmlinux; do ln -s "$real/$f" "$k/$f"; done
echo "comma-$RANDOM" > "$T/odd,name/f"
for i in 1 2; do
  NOREBOOT_CACHE=$T/cache "$VM_RUN" --share "$T/odd,name" -- sh -c 'echo "run '$i'"; cat "$1/f"' sh "$T/odd,name" \
    > "$T/out$i" 2> "$T/err$i" &
  eval "p$i=\$!"
done
rc1=0; rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
cat "$T"/err1 "$T"/err2 | sed 's/^/  [vm-run stderr] /'
expect_rc 0 "$rc1" "first concurrent run"
expect_rc 0 "$rc2" "second concurrent run"
expect_line "$T/out1" '^run 1$' "first run got its own output"
expect_line "$T/out2" '^run 2$' "second run got its own output"
expect_no_line "$T/out1" '^run 2$' "outputs not mixed"
expect_line "$T/out1" "^$(cat "$T/odd,name/f")\$" "share with a comma in its path readable"
n=$(cat "$T"/err1 "$T"/err2 | grep -c 'building the guest initramfs' || true)
[ "$n" = 1 ] || fail "$n runs built the initramfs, expected exactly 1"
ok "exactly one run built the initramfs"
[ "$(ls "$k/vm" | grep -c '^initramfs-.*\.cpio\.gz$')" = 1 ] || fail "not exactly one image in $k/vm: $(ls "$k/vm")"
[ -z "$(ls "$k/vm" | grep -v '^initramfs-.*\.cpio\.gz$')" ] || fail "leftovers in $k/vm: $(ls "$k/vm")"
ok "one image in the cache, no leftovers"
