#!/usr/bin/env bash
# shell tier: the fast path (the recorded Kbuild command run directly, with the source copied
# elsewhere) gives byte-identical objects to Kbuild, for a built-in object and a module object,
# and leaves the cached tree's sources untouched. Usage: fast-path.sh NOREBOOT_BUILD
set -euo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-fastpath   # build, $T, pass, fail (counting: every check reports), finish
TESTLIB_KEEP_GOING=1
for n in cmdline module-9p; do
  "$build" compile --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/$n.patch" --work "$T/$n" > "$T/$n.out" 2> "$T/$n.err" \
    || { fail "$n: compile failed"; cat "$T/$n.err"; exit 1; }
  tree=$(sed -n 's/^NR_TREE=//p' "$T/$n.out")
  [ -z "$tree" ] && tree=$("$build" prepare --kernel "debian:${NOREBOOT_ABI:-current}" 2>/dev/null | sed -n 's/^NR_TREE=//p')
  read -r owner orig patched state < <(grep -v '^NR_' "$T/$n.out" | head -1)
  obj=${orig#"$T/$n/orig/"}
  # The object Kbuild made in the tree vs the fast path's original: every byte.
  if cmp -s "$tree/$obj" "$orig"; then pass "$n: fast path == Kbuild for $obj ($owner, $(stat -c %s "$orig") bytes)"
  else fail "$n: $orig differs from Kbuild's $tree/$obj"; fi
  [ "$state" = changed ] || fail "$n: the patched object is not different"
  src=${obj%.o}.c
  cmp -s "$tree/$src" "$T/$n/src-orig/$src" || fail "$n: the tree's $src was modified"
  ! cmp -s "$tree/$src" "$T/$n/src-patched/$src" || fail "$n: the patched copy equals the tree"
  grep -q '^\[compile\] patched ' "$T/$n.err" || fail "$n: no compile step shown"
done
finish
