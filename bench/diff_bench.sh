#!/bin/bash
# diff_bench.sh [DIFF_TOOL] : time and peak memory of the differ on real kernel object pairs.
#
# Pairs: kernel/sched/core.o and kernel/fork.o of the target kernel, original and with a
# one-line fix (sched_yield returns 1 / nr_processes adds 1), compiled out of place with the
# exact command Kbuild recorded for an object of the prepared tree (the builder's
# $NOREBOOT_CACHE/kernels/<ABI>/tree) plus objtool, so they carry the real special sections.
# Compiled pairs are cached under $NOREBOOT_CACHE/kernels/<ABI>/diff-bench (flock, temp dir
# renamed into place). Without a prepared tree, it says so and stops (exit 77).
# Output: one line per pair: median wall and CPU time of RUNS runs (the machine is shared: wall
# time includes waiting for a CPU), max RSS, and what the differ found.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$here/build/src/diff/noreboot-diff}
runs=${RUNS:-7}
eval "$("$here/scripts/kernel-fetch" --quiet)"
cache=${NOREBOOT_CACHE:-$HOME/.cache/noreboot}/kernels/$NR_ABI
tree=$cache/tree
[ -f "$cache/tree.done" ] && [ -f "$tree/kernel/.sys.o.cmd" ] || {
  echo "diff_bench: no prepared kernel tree with a compiled kernel/sys.o at $tree (run noreboot-build prepare)" >&2
  exit 77
}
out=$cache/diff-bench

# compile SRC_REL (e.g. kernel/sched/core.c) from file FILE into OBJ, as Kbuild would.
compile() {
  local rel=$1 file=$2 obj=$3 base mod cmd
  base=$(basename "${rel%.c}")
  mod=${rel%.c}
  cmd=$(sed -n 's/^cmd_kernel\/sys.o := //p' "$tree/kernel/.sys.o.cmd")
  cmd=${cmd//-Wp,-MMD,kernel\/.sys.o.d/-Wp,-MMD,$obj.d}
  cmd=${cmd//\'\"kernel\/sys\"\'/\'\"$mod\"\'}
  cmd=${cmd//\'\"sys\"\'/\'\"$base\"\'}
  cmd=${cmd//kmod_sys/kmod_$base}
  cmd=${cmd//-c -o kernel\/sys.o kernel\/sys.c/-iquote $(dirname "$rel") -c -o $obj $file}
  cmd=${cmd//objtool\/objtool /objtool\/objtool }
  cmd=${cmd% kernel/sys.o}
  (cd "$tree" && eval "$cmd $obj")
}

build_pairs() {
  exec 9>"$out.lock"
  flock 9
  [ -d "$out" ] && return 0
  local tmp
  tmp=$(mktemp -d "$out.tmp.XXXXXX")
  # name  source  sed-expression (the fix)
  while read -r name rel expr; do
    echo "diff_bench: compiling $rel (orig, patched) ..." >&2
    mkdir -p "$tmp/src/$(dirname "$rel")"
    cp "$tree/$rel" "$tmp/src/$rel"
    compile "$rel" "$tmp/src/$rel" "$tmp/$name.orig.o" >&2
    sed -i "$expr" "$tmp/src/$rel"
    cmp -s "$tree/$rel" "$tmp/src/$rel" && { echo "the fix for $rel changed nothing" >&2; exit 1; }
    compile "$rel" "$tmp/src/$rel" "$tmp/$name.patched.o" >&2
  done <<'EOF'
core kernel/sched/core.c /^SYSCALL_DEFINE0(sched_yield)/,/^}/ s/return 0;/return 1;/
fork kernel/fork.c /^int nr_processes(void)/,/^}/ s/return total;/return total + 1;/
EOF
  mv "$tmp" "$out"
}
build_pairs

echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for name in core fork; do
  o=$out/$name.orig.o p=$out/$name.patched.o
  times=()
  cpus=()
  rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$out/time.$$" "$tool" diff "$o" "$p" --json -o "$out/$name.out.o" >"$out/$name.json" 2>/dev/null || true
    read -r t u sy m < "$out/time.$$"
    times+=("$t")
    cpus+=("$(awk -v a="$u" -v b="$sy" 'BEGIN {printf "%.2f", a + b}')")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  rm -f "$out/time.$$"
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  inner=$(jq -r '.stats.timings_ms.total' "$out/$name.json")
  echo "$name.o: $(stat -c %s "$o") bytes, $(jq -r '.stats.orig_functions' "$out/$name.json") functions;" \
       "changed $(jq -c '.changed' "$out/$name.json") new $(jq -c '.new' "$out/$name.json")" \
       "refused $(jq -c '[.refused[].symbol]' "$out/$name.json");" \
       "median of $runs: wall ${median} s, cpu (user+sys) ${cpu} s; last run's diff passes ${inner} ms; max RSS $((rss / 1024)) MB"
done
