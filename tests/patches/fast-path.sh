#!/usr/bin/env bash
# shell tier: the fast path (the recorded Kbuild command run directly, with the source copied
# elsewhere) gives byte-identical objects to Kbuild, for a built-in object and a module object,
# and leaves the cached tree's sources untouched. Usage: fast-path.sh NOREBOOT_BUILD
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/nr-fastpath.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
for n in cmdline module-9p; do
  "$build" compile --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/$n.patch" --work "$T/$n" > "$T/$n.out" 2> "$T/$n.err" \
    || { echo "FAIL $n: compile failed"; cat "$T/$n.err"; exit 1; }
  tree=$(sed -n 's/^NR_TREE=//p' "$T/$n.out")
  [ -z "$tree" ] && tree=$("$build" prepare --kernel "debian:${NOREBOOT_ABI:-current}" 2>/dev/null | sed -n 's/^NR_TREE=//p')
  read -r owner orig patched state < <(grep -v '^NR_' "$T/$n.out" | head -1)
  obj=${orig#"$T/$n/orig/"}
  # The object Kbuild made in the tree vs the fast path's original: every byte.
  if cmp -s "$tree/$obj" "$orig"; then echo "ok $n: fast path == Kbuild for $obj ($owner, $(stat -c %s "$orig") bytes)"
  else echo "FAIL $n: $orig differs from Kbuild's $tree/$obj"; fails=$((fails + 1)); fi
  [ "$state" = changed ] || { echo "FAIL $n: the patched object is not different"; fails=$((fails + 1)); }
  src=${obj%.o}.c
  cmp -s "$tree/$src" "$T/$n/src-orig/$src" || { echo "FAIL $n: the tree's $src was modified"; fails=$((fails + 1)); }
  ! cmp -s "$tree/$src" "$T/$n/src-patched/$src" || { echo "FAIL $n: the patched copy equals the tree"; fails=$((fails + 1)); }
  grep -q '^\[compile\] patched ' "$T/$n.err" || { echo "FAIL $n: no compile step shown"; fails=$((fails + 1)); }
done
[ $fails -eq 0 ] && echo PASS
exit $fails
