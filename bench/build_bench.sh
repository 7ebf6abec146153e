#!/usr/bin/env bash
# Builder benchmark: where each second of a livepatch build goes.
#
#   bench/build_bench.sh [--cold] [--runs N] [--bin PATH/noreboot-build]
#
# Warm (the kernel tree prepared, the unit's Kbuild command recorded): a one-file fix in a
# small file (tests/patches/cmdline.patch) and one in kernel/sched/core.c
# (bench/build_sched_core.patch), N runs each, per-step seconds from the builder's own
# `timings:` block, median of the runs. "first" is the first build of a file for a kernel
# (its Kbuild compile included: the object and .cmd are removed from the tree first).
# --cold: the same one-file fix with an empty NOREBOOT_CACHE (every download, unpack, prepare,
# symbol index), in a temporary folder removed afterwards (needs ~5 GB and the network).
# Prints a Markdown table: per-step wall seconds, the whole build's wall time, and "cpu", the
# user+sys CPU seconds of the builder and every process it ran (make, gcc, objtool, ld): on a
# shared, overloaded machine that is the figure to compare. The load is printed too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bin=$repo/build/src/builder/noreboot-build
runs=3 cold=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cold) cold=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--cold] [--runs N] [--bin noreboot-build]" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "build_bench: $bin missing: build the project first" >&2; exit 1; }
T=$(mktemp -d /tmp/nr-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config
abi=$("$bin" prepare --kernel debian:current 2>/dev/null | sed -n 's/^NR_ABI=//p')
tree=$("$bin" prepare --kernel "debian:$abi" 2>/dev/null | sed -n 's/^NR_TREE=//p')
steps="fetch prepare:untar prepare:config prepare:make stage kbuild compile diff klp bundle total"

# one LABEL PATCH: one build; appends "LABEL step seconds" lines to $T/times
one() {
  local label=$1 patch=$2 log=$T/log
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -o "$T/cpu" -f "%U %S" \
    "$bin" --kernel "debian:$abi" --patch "$patch" --sequence 1 -o "$T/out.nrp" > "$log" 2>&1 ||
    { echo "build_bench: $label failed:" >&2; cat "$log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v l="$label" '{printf "%s cpu %.2f\n", l, $1 + $2}' "$T/cpu" >> "$T/times"
  sed -n '/^timings:/,/^  total/p' "$log" | awk -v l="$label" 'NR > 1 {print l, $1, $2}' >> "$T/times"
  awk -v l="$label" -v a="$start" -v b="$end" 'BEGIN {printf "%s wall %.2f\n", l, b - a}' >> "$T/times"
}
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }

small=$repo/tests/patches/cmdline.patch
sched=$here/build_sched_core.patch
if [ "$cold" = 1 ]; then
  echo "cold build (empty cache, every download) ..." >&2
  NOREBOOT_CACHE=$T/cache one cold "$small"
fi
for p in small sched; do
  patch=${!p}
  obj=$(sed -n 's|^+++ b/\(.*\)\.c.*|\1.o|p' "$patch" | head -1)
  rm -f "$tree/$obj" "$tree/$(dirname "$obj")/.$(basename "$obj").cmd"
  echo "first build of $obj ..." >&2
  one "$p-first" "$patch"
  for i in $(seq 1 "$runs"); do echo "warm build $i of $obj ..." >&2; one "$p-warm" "$patch"; done
done

labels="small-first small-warm sched-first sched-warm"
[ "$cold" = 1 ] && labels="cold $labels"
printf '| step |'; for l in $labels; do printf ' %s |' "$l"; done; echo
printf '|---|'; for l in $labels; do printf -- '---:|'; done; echo
for s in $steps wall cpu; do
  printf '| %s |' "$s"
  for l in $labels; do printf ' %s |' "$(awk -v l="$l" -v s="$s" '$1 == l && $2 == s {print $3}' "$T/times" | median)"; done
  echo
done
echo
echo "machine: $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); warm = median of $runs runs"
