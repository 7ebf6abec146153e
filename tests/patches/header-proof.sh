# header-proof.sh: the proof header-units.sh and header-macro.sh share, sourced by both after
# they set build, kernel, T and fails=0. A header fix is proven exact by comparing the units
# the builder says change with a full rebuild: Kbuild builds every object of the folders, the
# builder compiles ALL of those units (plus fs/'s .c includers of "proc/internal.h") with the
# same fix and a comment line appended to each .c file (nothing moves, every unit becomes a
# touched file), and `noreboot-build diff` tells which really changed.

# prepare_kernel: sets tree, abi and kdir for $kernel (its cached, prepared tree).
prepare_kernel() {
  "$build" prepare --kernel "$kernel" > "$T/prepare.out" 2> /dev/null || { echo "FAIL: prepare $kernel"; exit 1; }
  tree=$(sed -n 's/^NR_TREE=//p' "$T/prepare.out")
  abi=$(sed -n 's/^NR_ABI=//p' "$T/prepare.out")
  [ -d "$tree" ] || { echo "FAIL: no prepared tree for $kernel"; exit 1; }
  kdir=$(dirname "$tree")
}

# changed_units WORK OBJ...: prints the objects whose original and patched copies in WORK
# differ; a diff that fails (not 0 "changed", not 4 "no change") counts as a failure.
# Call as `changed_units ... > FILE` (not in $(...)), so the failure count reaches the caller.
changed_units() {
  local work=$1 obj rc; shift
  for obj in "$@"; do
    rc=0; "$build" diff "$work/orig/$obj" "$work/patched/$obj" > /dev/null 2>&1 || rc=$?
    [ $rc -eq 0 ] && printf '%s ' "$obj"
    [ $rc -eq 0 ] || [ $rc -eq 4 ] || { echo "FAIL: diff of $obj (in $work): exit $rc" >&2; fails=$((fails + 1)); }
  done
}

# full_rebuild_units DIR...: Kbuild builds every object of the DIRs in the cached tree; sets
# `all` to their .c files plus the .c files of fs/ that include "proc/internal.h".
full_rebuild_units() {
  local dir cmd o c
  ( flock 9; make -C "$tree" CC=gcc-12 KERNELRELEASE="$abi" KCFLAGS="-ffunction-sections -fdata-sections" -j2 $(printf '%s/ ' "$@") > "$T/kbuild.log" 2>&1 ) 9> "$kdir/.tree.lock" \
    || { echo "FAIL: Kbuild could not build $*"; tail -20 "$T/kbuild.log"; exit 1; }
  all=()
  for dir in "$@"; do
    for cmd in "$tree/$dir"/.*.o.cmd; do
      o=$(basename "$cmd" .cmd); o=${o#.}
      [ -f "$tree/$dir/${o%.o}.c" ] && all+=("$dir/${o%.o}.c")
    done
  done
  for c in $(cd "$tree" && grep -l '#include "proc/internal.h"' fs/*.c); do all+=("$c"); done
  echo "full rebuild: ${#all[@]} units ($* and the includers of proc/internal.h in fs/)"
}

# every_unit_rebuilt WHAT OBJ...: each OBJ must be one of the full rebuild's units.
every_unit_rebuilt() {
  local what=$1 obj; shift
  for obj in "$@"; do
    [[ " ${all[*]} " == *" ${obj%.o}.c "* ]] || { echo "FAIL: $what $obj is not in the full rebuild"; fails=$((fails + 1)); }
  done
}

# prove_full_rebuild FIX CHANGED_BY_BUILDER: compiles every unit of `all` with FIX and a comment
# at the end of each .c file, and compares the units that changed with CHANGED_BY_BUILDER.
prove_full_rebuild() {
  local fix=$1 by_builder in_full c n objs=()
  cp "$fix" "$T/all.patch"
  for c in "${all[@]}"; do
    n=$(wc -l < "$tree/$c")
    printf -- '--- a/%s\n+++ b/%s\n@@ -%d,0 +%d,1 @@\n+/* full rebuild */\n' "$c" "$c" "$n" "$((n + 1))" >> "$T/all.patch"
    objs+=("${c%.c}.o")
  done
  "$build" compile --kernel "$kernel" --patch "$T/all.patch" --work "$T/all" > "$T/all.out" 2> "$T/all.err" \
    || { echo "FAIL: the full rebuild did not compile"; tail -30 "$T/all.err"; exit 1; }
  changed_units "$T/all" "${objs[@]}" > "$T/changed-in-full"
  by_builder=$(sorted_words $2); in_full=$(sorted_words $(cat "$T/changed-in-full"))
  echo "changed (builder):      $by_builder"
  echo "changed (full rebuild): $in_full"
  if [ "$by_builder" = "$in_full" ] && [ -n "$in_full" ]; then
    echo "ok: the builder's changed units equal the full rebuild's ($(echo $in_full | wc -w) of ${#all[@]} units)"
  else
    echo "FAIL: the builder's changed units differ from the full rebuild's"; fails=$((fails + 1))
  fi
}

sorted_words() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
