#!/usr/bin/env bash
# shell tier: a fix that changes a `static inline` function in a header (get_proc_task in
# fs/proc/internal.h) reaches exactly the units whose code changes, proven against a full
# rebuild of the affected folder. (A macro change in a header: header-macro.sh.)
#
# The proof: the builder compiles the candidate units the header index names (original and
# patched) and diffs them. Independently, Kbuild builds every object of fs/proc in the cached
# tree, and the builder compiles ALL of those units with the same header change (a second fix
# that also appends a comment line at the end of every .c file of fs/proc: nothing moves, but
# every unit becomes a touched file); `noreboot-build diff` tells which of them really changed.
# The full rebuild also covers the .c files of fs/ that include "proc/internal.h" (such as
# fs/proc_namespace.c). The builder's set of changed units must equal the full rebuild's, and
# every candidate must be in the full rebuild.
# The kernel is debian:${NOREBOOT_ABI:-current}; its header index is built on first use (cold:
# see docs/testing.md) and cached. Usage: header-units.sh NOREBOOT_BUILD
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
kernel="debian:${NOREBOOT_ABI:-current}"
dir=fs/proc
T=$(mktemp -d /tmp/nr-header.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

"$build" prepare --kernel "$kernel" > "$T/prepare.out" 2> /dev/null || { echo "FAIL: prepare $kernel"; exit 1; }
tree=$(sed -n 's/^NR_TREE=//p' "$T/prepare.out")
abi=$(sed -n 's/^NR_ABI=//p' "$T/prepare.out")
[ -d "$tree" ] || { echo "FAIL: no prepared tree for $kernel"; exit 1; }
kdir=$(dirname "$tree")

# 1. The builder on the header fix alone: candidates, then which of them changed.
"$build" compile --kernel "$kernel" --patch "$here/header/get-proc-task.patch" --work "$T/fix" > "$T/fix.out" 2> "$T/fix.err" \
  || { echo "FAIL: the builder did not compile the header fix"; cat "$T/fix.err"; exit 1; }
grep '^\[header\]' "$T/fix.err" | sed 's/^/  /'
candidates=$(awk '{print $2}' "$T/fix.out" | sed "s|^$T/fix/orig/||" | sort)
echo "candidates: $(echo "$candidates" | wc -l): $(echo $candidates)"
[ -n "$candidates" ] || { echo "FAIL: no candidate unit"; exit 1; }
changed_by_builder=""
for obj in $candidates; do
  rc=0; "$build" diff "$T/fix/orig/$obj" "$T/fix/patched/$obj" > /dev/null 2>&1 || rc=$?
  [ $rc -eq 0 ] && changed_by_builder+="$obj "
  [ $rc -eq 0 ] || [ $rc -eq 4 ] || { echo "FAIL: diff of $obj: exit $rc"; fails=$((fails + 1)); }
done

# 2. The full rebuild: every object Kbuild builds in fs/proc for this kernel, compiled
#    original and patched by the builder (the same header fix + a comment at the end of each .c).
( flock 9; make -C "$tree" CC=gcc-12 KERNELRELEASE="$abi" KCFLAGS="-ffunction-sections -fdata-sections" -j2 "$dir/" > "$T/kbuild.log" 2>&1 ) 9> "$kdir/.tree.lock" \
  || { echo "FAIL: Kbuild could not build $dir"; tail -20 "$T/kbuild.log"; exit 1; }
all=()
for cmd in "$tree/$dir"/.*.o.cmd; do
  o=$(basename "$cmd" .cmd); o=${o#.}
  [ -f "$tree/$dir/${o%.o}.c" ] && all+=("$dir/${o%.o}.c")
done
for c in $(cd "$tree" && grep -l '#include "proc/internal.h"' fs/*.c); do all+=("$c"); done
echo "full rebuild: ${#all[@]} units ($dir and its includers in fs/)"
for obj in $candidates; do
  [[ " ${all[*]} " == *" ${obj%.o}.c "* ]] || { echo "FAIL: candidate $obj is not in the full rebuild"; fails=$((fails + 1)); }
done
cp "$here/header/get-proc-task.patch" "$T/all.patch"
for c in "${all[@]}"; do
  n=$(wc -l < "$tree/$c")
  printf -- '--- a/%s\n+++ b/%s\n@@ -%d,0 +%d,1 @@\n+/* full rebuild of %s */\n' "$c" "$c" "$n" "$((n + 1))" "$dir" >> "$T/all.patch"
done
"$build" compile --kernel "$kernel" --patch "$T/all.patch" --work "$T/all" > "$T/all.out" 2> "$T/all.err" \
  || { echo "FAIL: the full rebuild did not compile"; tail -30 "$T/all.err"; exit 1; }
changed_in_full=""
for c in "${all[@]}"; do
  obj=${c%.c}.o
  rc=0; "$build" diff "$T/all/orig/$obj" "$T/all/patched/$obj" > /dev/null 2>&1 || rc=$?
  [ $rc -eq 0 ] && changed_in_full+="$obj "
  [ $rc -eq 0 ] || [ $rc -eq 4 ] || { echo "FAIL: diff of $obj (full rebuild): exit $rc"; fails=$((fails + 1)); }
done
echo "changed (builder):      $changed_by_builder"
echo "changed (full rebuild): $changed_in_full"
if [ "$changed_by_builder" = "$changed_in_full" ] && [ -n "$changed_in_full" ]; then
  echo "ok: the builder's changed units equal the full rebuild's ($(echo $changed_in_full | wc -w) of ${#all[@]} units)"
else
  echo "FAIL: the builder's changed units differ from the full rebuild's"; fails=$((fails + 1))
fi

[ $fails -eq 0 ] && echo PASS
exit $fails
