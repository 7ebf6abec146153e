#!/usr/bin/env bash
# shell tier: `noreboot-build cache list` and `cache prune` on a cache made at test time (no
# download): sizes per kernel, --trees removes only prepared trees (tree.done first), --keep
# keeps a kernel and its packages and removes the others' folders and packages, the shared
# linux-kbuild package stays, a bad prune is refused with a message. Usage: cache-prune.sh NOREBOOT_BUILD
set -euo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-cache   # build, $T, fail, the work folder removed at exit
export NOREBOOT_CACHE=$T
mk() { mkdir -p "$(dirname "$1")"; head -c "$2" /dev/zero > "$1"; }
for k in 6.1.0-55-amd64:6.1.192-1 6.1.0-56-amd64:6.1.192-2; do
  abi=${k%%:*} v=${k#*:}
  d=$T/kernels/$abi
  mk "$d/tree/fs/a.o" $((3 << 20)); mk "$d/root/boot/vmlinuz-$abi" $((1 << 20))
  echo "$abi $v" > "$d/tree.done"; echo "$v" > "$d/root.done"
  mk "$T/debs/linux-image-${abi}_${v}_amd64.deb" $((2 << 20))
  mk "$T/debs/linux-image-${abi}-dbg_${v}_amd64.deb" $((2 << 20))
  mk "$T/debs/linux-source-6.1_${v}_all.deb" $((1 << 20))
done
mk "$T/debs/linux-kbuild-6.1_6.1.192-3_amd64.deb" $((1 << 20))

out=$("$build" cache list)
echo "$out"
grep -q '^6.1.0-55-amd64 *6.1.192-1 *3 MB *1 MB *5 MB *9 MB$' <<<"$out" || fail "cache list: wrong line for 6.1.0-55"
grep -q '^6.1.0-56-amd64 *6.1.192-2 ' <<<"$out" || fail "cache list: no line for 6.1.0-56"

rc=0; msg=$("$build" cache prune 2>&1) || rc=$?
[ $rc = 2 ] && grep -q 'say what to keep' <<<"$msg" || fail "prune without a choice: exit $rc: $msg"

echo graph > "$T/kernels/6.1.0-55-amd64/include-graph"   # derived from the tree: goes with it
"$build" cache prune --trees --keep 6.1.0-56-amd64
[ ! -e "$T/kernels/6.1.0-55-amd64/tree" ] && [ ! -e "$T/kernels/6.1.0-55-amd64/tree.done" ] || fail "--trees left 6.1.0-55's tree"
[ ! -e "$T/kernels/6.1.0-55-amd64/include-graph" ] || fail "--trees left 6.1.0-55's include graph"
[ -e "$T/kernels/6.1.0-55-amd64/root.done" ] || fail "--trees removed more than the tree"
[ -e "$T/kernels/6.1.0-56-amd64/tree.done" ] || fail "--trees removed a kept kernel's tree"

"$build" cache prune --keep 6.1.0-56-amd64
[ ! -e "$T/kernels/6.1.0-55-amd64" ] || fail "prune --keep left 6.1.0-55"
ls "$T/debs" | grep -q '6.1.0-55\|6.1.192-1_' && fail "prune --keep left 6.1.0-55's packages: $(ls "$T/debs")"
[ -e "$T/debs/linux-source-6.1_6.1.192-2_all.deb" ] && [ -e "$T/debs/linux-image-6.1.0-56-amd64-dbg_6.1.192-2_amd64.deb" ] ||
  fail "prune --keep removed the kept kernel's packages"
[ -e "$T/debs/linux-kbuild-6.1_6.1.192-3_amd64.deb" ] || fail "prune removed the shared linux-kbuild package"
echo PASS
