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

. "$here/header-proof.sh"
prepare_kernel

# 1. The builder on the header fix alone: candidates, then which of them changed.
"$build" compile --kernel "$kernel" --patch "$here/header/get-proc-task.patch" --work "$T/fix" > "$T/fix.out" 2> "$T/fix.err" \
  || { echo "FAIL: the builder did not compile the header fix"; cat "$T/fix.err"; exit 1; }
grep '^\[header\]' "$T/fix.err" | sed 's/^/  /'
candidates=$(awk '{print $2}' "$T/fix.out" | sed "s|^$T/fix/orig/||" | sort)
echo "candidates: $(echo "$candidates" | wc -l): $(echo $candidates)"
[ -n "$candidates" ] || { echo "FAIL: no candidate unit"; exit 1; }
changed_units "$T/fix" $candidates > "$T/changed-by-builder"

# 2. The full rebuild: every object Kbuild builds in fs/proc for this kernel, compiled
#    original and patched by the builder (the same header fix + a comment at the end of each .c).
full_rebuild_units "$dir"
every_unit_rebuilt candidate $candidates
prove_full_rebuild "$here/header/get-proc-task.patch" "$(cat "$T/changed-by-builder")"

[ $fails -eq 0 ] && echo PASS
exit $fails
