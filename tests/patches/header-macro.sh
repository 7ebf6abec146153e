#!/usr/bin/env bash
# shell tier: a fix that changes a macro in a header reaches exactly the units whose code
# changes, proven against a full rebuild of the affected folder, on an OLDER kernel than the
# newest: PROC_NUMBUF in fs/proc/internal.h (vmlinux, two users) and V9FS_DEFUSER in
# fs/9p/v9fs.h (the 9p module). A changed struct definition and a macro of a header nearly every
# unit includes are refused, each naming the header and the reason.
#
# The builder asks the compiler: the include graph names every unit that may include the header,
# each is preprocessed with the original and the patched header, and only those whose text
# differs are compiled (docs/builder.md, "Header changes"). The proof, as in header-units.sh:
# Kbuild builds every object of fs/proc and fs/9p, and the builder compiles ALL of those units
# (plus the .c files of fs/ that include "proc/internal.h") with the same macro changes (a second
# fix that also appends a comment line to each .c file, so every unit becomes a touched file);
# `noreboot-build diff` tells which really changed. The builder's changed units must equal the
# full rebuild's, and every unit it compiled must be in the full rebuild. The second build (the
# full rebuild's) must take the tree's include graph from the kernel's cache.
# The kernel: the second newest complete kernel of the archive (newest_kernels 2), because the
# host that needs a live patch runs an older kernel than the newest; its index, unit list and
# line numbers are its own (the fix's lines are found in its tree at test time), and the test
# checks that every step ran on it. Its header index is built on first use (cold: a few minutes,
# see docs/testing.md) and cached. Usage: header-macro.sh NOREBOOT_BUILD
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/testlib.sh"
newest_kernels 2
older=${kernels[0]%% *} newest=${kernels[1]%% *}
kernel="debian:$older"
echo "kernel: $older (the second newest complete kernel; the newest is $newest)"
T=$(mktemp -d /tmp/nr-header-macro.XXXXXX)
on_exit 'rm -rf "$T"'
fails=0

. "$here/header-proof.sh"
prepare_kernel
[ "$abi" = "$older" ] && [ "$abi" != "$newest" ] || { echo "FAIL: prepared $abi, not the older kernel $older"; exit 1; }
[ -f "$kdir/header-index" ] || echo "building the header index of $abi first (once per kernel, ~6 min cold; cached in $kdir)"

# edit HEADER OLD NEW: a fix replacing the line OLD of HEADER with NEW (this kernel's line numbers).
edit() {
  local header=$1 old=$2 new=$3 line
  line=$(grep -nFx -- "$old" "$tree/$header" | cut -d: -f1)
  [ -n "$line" ] || { echo "FAIL: no '$old' in $tree/$header" >&2; return 1; }
  printf -- '--- a/%s\n+++ b/%s\n@@ -%d,1 +%d,1 @@\n-%s\n+%s\n' "$header" "$header" "$line" "$line" "$old" "$new"
}
# One fix with two macro changes, each header's units found on its own: PROC_NUMBUF (vmlinux:
# fs/proc/base.c and task_mmu.c use it) and V9FS_DEFUSER (fs/9p/v9fs.c, in the 9p module).
{ edit fs/proc/internal.h '#define PROC_NUMBUF 13' '#define PROC_NUMBUF 16' \
  && edit fs/9p/v9fs.h '#define V9FS_DEFUSER	"nobody"' '#define V9FS_DEFUSER	"nobody9"'; } > "$T/macro.patch" || exit 1
dirs="fs/proc fs/9p"

# 1. The builder on the fix alone: the units the compiler says change, then the differ.
start=$(date +%s)
"$build" compile --kernel "$kernel" --patch "$T/macro.patch" --work "$T/fix" > "$T/fix.out" 2> "$T/fix.err" \
  || { echo "FAIL: the builder did not compile the macro fix"; tail -30 "$T/fix.err"; exit 1; }
echo "builder: $(( $(date +%s) - start )) s"
grep '^\[header\]\|^\[units\]' "$T/fix.err" | sed 's/^/  /'
# Every step on the older kernel's own tree (its include graph, its units).
grep -q "^\[header\] include graph of $tree: " "$T/fix.err" || { echo "FAIL: the builder did not read the include graph of $tree"; fails=$((fails + 1)); }
candidates=$(awk '{print $2}' "$T/fix.out" | sed "s|^$T/fix/orig/||" | sort)
echo "compiled: $(echo "$candidates" | wc -w): $(echo $candidates)"
[ -n "$candidates" ] || { echo "FAIL: no unit compiled"; exit 1; }
grep -q '^9p .*/fs/9p/v9fs.o ' "$T/fix.out" || { echo "FAIL: fs/9p/v9fs.o is not compiled as a unit of the 9p module"; fails=$((fails + 1)); }
changed_units "$T/fix" $candidates > "$T/changed-by-builder"

# 2. The full rebuild: every object Kbuild builds in fs/proc and fs/9p, and fs/'s includers of
#    proc/internal.h.
full_rebuild_units $dirs
every_unit_rebuilt "compiled unit" $candidates
prove_full_rebuild "$T/macro.patch" "$(cat "$T/changed-by-builder")"
# The full rebuild was the second build of this tree: its include graph came from the cache
# (KDIR/include-graph), reading again only the files Kbuild generated or changed since.
graph=$(grep "^\[header\] include graph of $tree: " "$T/all.err" | head -1)
echo "second build: ${graph#\[header\] }"
reused=$(echo "$graph" | sed -n 's/.* \([0-9]*\) from the cache.*/\1/p')
if [ -n "$reused" ] && [ "$reused" -gt 0 ] && ! grep -q "cached include graph is not used" "$T/all.err"; then
  echo "ok: the second build took the include graph from $kdir/include-graph ($reused files not read again)"
else
  echo "FAIL: the second build did not reuse the cached include graph"; fails=$((fails + 1))
fi

# 3. A changed struct definition is refused, naming the header, the lines and the type.
sline=$(grep -n '^struct proc_inode {$' "$tree/fs/proc/internal.h" | cut -d: -f1)
cat > "$T/type.patch" <<EOF
--- a/fs/proc/internal.h
+++ b/fs/proc/internal.h
@@ -$((sline + 2)),1 +$((sline + 2)),1 @@
-	unsigned int fd;
+	unsigned long fd;
EOF
rc=0; "$build" compile --kernel "$kernel" --patch "$T/type.patch" --work "$T/type" > /dev/null 2> "$T/type.err" || rc=$?
if [ $rc -eq 3 ] && grep -q "^refused: fs/proc/internal.h: line $((sline + 2)) of fs/proc/internal.h change the definition of struct proc_inode" "$T/type.err"; then
  echo "ok: the struct change is refused: $(grep '^refused' "$T/type.err" | cut -c1-160)..."
else
  echo "FAIL: the struct change was not refused as expected (exit $rc)"; tail -20 "$T/type.err" | sed 's/^/  /'; fails=$((fails + 1))
fi

# 4. A macro of a header (almost) every unit includes: refused (it may reach assembly and boot
#    code, and more units than the builder preprocesses).
qline=$(grep -n '^#define SEQ_SKIP 1$' "$tree/include/linux/seq_file.h" | cut -d: -f1)
cat > "$T/wide.patch" <<EOF
--- a/include/linux/seq_file.h
+++ b/include/linux/seq_file.h
@@ -$qline,1 +$qline,1 @@
-#define SEQ_SKIP 1
+#define SEQ_SKIP 2
EOF
rc=0; "$build" compile --kernel "$kernel" --patch "$T/wide.patch" --work "$T/wide" > /dev/null 2> "$T/wide.err" || rc=$?
if [ $rc -eq 3 ] && grep -Eq "^refused: include/linux/seq_file.h: line $qline of include/linux/seq_file.h \(not inside the body of a function.*may reach " "$T/wide.err"; then
  echo "ok: the wide macro change is refused: $(grep '^refused' "$T/wide.err" | cut -c1-200)..."
else
  echo "FAIL: the wide macro change was not refused as expected (exit $rc)"; tail -20 "$T/wide.err" | sed 's/^/  /'; fails=$((fails + 1))
fi
[ $fails -eq 0 ] && echo PASS
exit $fails
