#!/bin/bash
# diff_bench.sh [--abi ABI] [--peer CREATE_DIFF_OBJECT] [DIFF_TOOL] : time and peak memory of the differ on
# real kernel object pairs, optionally side by side with kpatch's create-diff-object.
#
# Pairs (6): kernel/sched/core.o, kernel/fork.o, mm/memory.o, net/ipv4/tcp.o,
# kernel/sched/fair.o (vmlinux) and fs/ext4/mballoc.o (the ext4 module) of the target kernel,
# original and with a one-line fix each (ABI: Debian's current kernel unless --abi names one), compiled out of place with the exact command Kbuild
# recorded for kernel/sys.o in the prepared tree (the builder's $NOREBOOT_CACHE/kernels/<ABI>/tree;
# -DMODULE, the module name and objtool --module for the module object), plus objtool, so they
# carry the real special sections. Compiled pairs are cached under
# $NOREBOOT_CACHE/kernels/<ABI>/diff-bench (flock, temp dir renamed into place). Without a
# prepared tree, it says so and stops (exit 77).
#
# Each run is a whole command: `DIFF_TOOL diff ORIG PATCHED --json -o OUT.o` (load both objects,
# diff, write the output), and with --peer `create-diff-object ORIG PATCHED PARENT SYMTAB
# Module.symvers nr_bench OUT.o` (PARENT is vmlinux or ext4; SYMTAB is `readelf -s --wide` of the
# kernel's vmlinux or ext4.ko from the -dbg package, made once), as
# kpatch-build runs it. With a peer, the two tools alternate run by run on the same pair, so both
# see the same machine load. Measured with wait4(2): wall, user+sys CPU, max RSS.
# Output: the machine and load, then one row per pair and tool: medians of RUNS runs (default 7),
# the largest max RSS, and what each tool found (the differ's JSON; the peer's changed-function
# lines), then the CPU ratio differ/peer per pair.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
peer= abi=
while [ $# -gt 0 ]; do
  case $1 in
    --peer) peer=$2; shift 2 ;;
    --abi) abi=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
tool=${1:-$here/build/src/diff/noreboot-diff}
runs=${RUNS:-7}
[ -x "$tool" ] || { echo "diff_bench: $tool is not an executable (build noreboot-diff first, or pass DIFF_TOOL)" >&2; exit 2; }
[ -z "$peer" ] || [ -x "$peer" ] || { echo "diff_bench: --peer $peer is not an executable (build kpatch's kpatch-build/create-diff-object)" >&2; exit 2; }
cache_root=${NOREBOOT_CACHE:-$HOME/.cache/noreboot}
if [ -n "$abi" ] && [ -f "$cache_root/kernels/$abi/fetch.env" ]; then
  . "$cache_root/kernels/$abi/fetch.env"  # what kernel-fetch recorded; asks apt nothing
else
  eval "$("$here/scripts/kernel-fetch" --quiet ${abi:+--abi "$abi"})"
fi
cache=$cache_root/kernels/$NR_ABI
tree=$cache/tree
[ -f "$cache/tree.done" ] && [ -f "$tree/kernel/.sys.o.cmd" ] || {
  echo "diff_bench: no prepared kernel tree with a compiled kernel/sys.o at $tree (run noreboot-build prepare)" >&2
  exit 77
}
out=$cache/diff-bench

# compile SRC_REL (e.g. kernel/sched/core.c) of module MODNAME ("-" for vmlinux) from file FILE
# into OBJ, as Kbuild would.
compile() {
  local rel=$1 modname=$2 file=$3 obj=$4 base mod cmd
  base=$(basename "${rel%.c}")
  mod=${rel%.c}
  cmd=$(sed -n 's/^cmd_kernel\/sys.o := //p' "$tree/kernel/.sys.o.cmd")
  cmd=${cmd//-Wp,-MMD,kernel\/.sys.o.d/-Wp,-MMD,$obj.d}
  if [ "$modname" = - ]; then
    cmd=${cmd//\'\"kernel\/sys\"\'/\'\"$mod\"\'}
    cmd=${cmd//\'\"sys\"\'/\'\"$base\"\'}
    cmd=${cmd//kmod_sys/kmod_$base}
  else
    cmd=${cmd//-DKBUILD_MODFILE=\'\"kernel\/sys\"\'/-DMODULE}
    cmd=${cmd//-DKBUILD_BASENAME=\'\"sys\"\'/-DKBUILD_BASENAME=\'\"$base\"\'}
    cmd=${cmd//-DKBUILD_MODNAME=\'\"sys\"\'/-DKBUILD_MODNAME=\'\"$modname\"\'}
    cmd=${cmd//kmod_sys/kmod_$modname}
    cmd=${cmd//--uaccess /--uaccess --module }
  fi
  cmd=${cmd//-c -o kernel\/sys.o kernel\/sys.c/-iquote $(dirname "$rel") -c -o $obj $file}
  cmd=${cmd% kernel/sys.o}
  (cd "$tree" && eval "$cmd $obj")
}

# name  module ("-": vmlinux)  source  sed-expression (the fix)
pairs() {
  cat <<'EOF'
core - kernel/sched/core.c /^SYSCALL_DEFINE0(sched_yield)/,/^}/ s/return 0;/return 1;/
fork - kernel/fork.c /^int nr_processes(void)/,/^}/ s/return total;/return total + 1;/
memory - mm/memory.c /^void print_vma_addr/,/^}/ s/p = "?";/p = "??";/
tcp - net/ipv4/tcp.c /^int tcp_set_rcvlowat/,/^}/ s/cap = sk->sk_rcvbuf >> 1;/cap = sk->sk_rcvbuf >> 2;/
fair - kernel/sched/fair.c /^int sched_group_set_shares/,/^}/ s/ret = -EINVAL;/ret = -EPERM;/
mballoc ext4 fs/ext4/mballoc.c /^int ext4_mb_release(/,/^}/ s/return 0;/return 1;/
EOF
}

build_pairs() {
  exec 9>"$out.lock"
  flock 9
  local tmp name modname rel expr
  # Pairs are added one by one, so a cache made with fewer pairs is completed, not rebuilt.
  mkdir -p "$out"
  while read -r name modname rel expr; do
    [ -f "$out/$name.patched.o" ] && continue
    tmp=$(mktemp -d "$out/tmp.XXXXXX")
    echo "diff_bench: compiling $rel (orig, patched) ..." >&2
    mkdir -p "$tmp/src/$(dirname "$rel")"
    cp "$tree/$rel" "$tmp/src/$rel"
    compile "$rel" "$modname" "$tmp/src/$rel" "$tmp/$name.orig.o" >&2
    sed -i "$expr" "$tmp/src/$rel"
    cmp -s "$tree/$rel" "$tmp/src/$rel" && { echo "diff_bench: the fix for $rel changed nothing" >&2; exit 1; }
    compile "$rel" "$modname" "$tmp/src/$rel" "$tmp/$name.patched.o" >&2
    mv "$tmp/$name.orig.o" "$out/$name.orig.o"
    mv "$tmp/$name.patched.o" "$out/$name.patched.o"
    rm -rf "$tmp"
  done < <(pairs)
  # The peer matches each object's local symbols with those of its parent's symbol table, so
  # it needs the unstripped vmlinux and ext4.ko of the -dbg package (the image's vmlinuz and
  # modules carry no FILE symbols): extracted once (minutes: the package is ~0.9 GB of xz).
  if [ -n "$peer" ] && { [ ! -s "$out/vmlinux.symtab" ] || [ ! -s "$out/ext4.symtab" ]; }; then
    [ -n "${NR_DBG_DEB:-}" ] && [ -f "$NR_DBG_DEB" ] || {
      echo "diff_bench: --peer needs the kernel's -dbg package (scripts/kernel-fetch --abi $NR_ABI --dbg)" >&2
      exit 77
    }
    echo "diff_bench: extracting vmlinux and ext4.ko from $(basename "$NR_DBG_DEB") for the peer's symbol tables ..." >&2
    tmp=$(mktemp -d "$out/tmp.XXXXXX")
    dpkg-deb --fsys-tarfile "$NR_DBG_DEB" | tar -x -C "$tmp" --wildcards './usr/lib/debug/boot/vmlinux-*' \
      './usr/lib/debug/lib/modules/*/kernel/fs/ext4/ext4.ko'
    readelf -s --wide "$tmp"/usr/lib/debug/boot/vmlinux-* > "$out/vmlinux.symtab"
    readelf -s --wide "$tmp"/usr/lib/debug/lib/modules/*/kernel/fs/ext4/ext4.ko > "$out/ext4.symtab"
    rm -rf "$tmp"
  fi
  exec 9>&-
}
build_pairs

# timed FILE CMD... : runs CMD (its output goes where the caller redirects ours) and appends
# "wall_s cpu_s maxrss_kB" of it to FILE, from wait4(2): microsecond CPU times (/usr/bin/time
# rounds to 10 ms, coarser than the differ's whole run on the smaller pairs).
timed() {
  python3 -c '
import os, sys, time
t = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "a") as f:
    f.write("%.4f %.4f %d\n" % (time.monotonic() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss))
' "$@"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run_once TOOL NAME PARENT : one timed run; appends "wall cpu rss_kb" to $out/NAME.TOOL.times
run_once() {
  local which=$1 name=$2 parent=$3 o=$out/$2.orig.o p=$out/$2.patched.o
  if [ "$which" = differ ]; then
    timed "$out/$name.$which.times" "$tool" diff "$o" "$p" --json -o "$out/$name.out.o" >"$out/$name.json" 2>/dev/null || true
  else
    # kpatch-build tells create-diff-object the sizes of the special-section entries (from
    # vmlinux's DWARF); these are x86-64 Linux 6.1's, the same the differ knows (elf/arch_x86_64.cc).
    ALT_STRUCT_SIZE=12 BUG_STRUCT_SIZE=12 EX_STRUCT_SIZE=12 JUMP_STRUCT_SIZE=16 ORC_STRUCT_SIZE=6 \
      PARA_STRUCT_SIZE=16 STATIC_CALL_STRUCT_SIZE=8 \
      timed "$out/$name.$which.times" "$peer" "$o" "$p" "$parent" "$out/$parent.symtab" "$tree/Module.symvers" nr_bench \
      "$out/$name.peer.o" >"$out/$name.peer.log" 2>&1 || true
  fi
}

summary() {
  local f=$1
  echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median) $(($(cut -d' ' -f3 "$f" | sort -n | tail -1) / 1024))"
}

echo "# machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $runs runs per tool and pair${peer:+, alternating with the peer}"
printf '%-8s %-8s %9s %9s %8s  %s\n' pair tool "wall(s)" "cpu(s)" "rss(MB)" "found"
while read -r name modname rel expr; do
  parent=vmlinux
  [ "$modname" = - ] || parent=$modname
  rm -f "$out/$name".*.times
  for _ in $(seq "$runs"); do
    run_once differ "$name" "$parent"
    [ -z "$peer" ] || run_once peer "$name" "$parent"
  done
  read -r wall cpu rss < <(summary "$out/$name.differ.times")
  found="changed $(jq -c '.changed' "$out/$name.json") new $(jq -c '.new' "$out/$name.json") refused $(jq -c '[.refused[].symbol]' "$out/$name.json"); load $(jq -r '.stats.timings_ms.load // "?"' "$out/$name.json") ms of total $(jq -r '.stats.timings_ms.total' "$out/$name.json") ms"
  printf '%-8s %-8s %9s %9s %8s  %s\n' "$name" differ "$wall" "$cpu" "$rss" "$found"
  if [ -n "$peer" ]; then
    read -r pwall pcpu prss < <(summary "$out/$name.peer.times")
    pfound=$({ grep -E '(changed|new) function: ' "$out/$name.peer.log" || true; } | sed 's/^.*\(changed\|new\) function: /\1 /' | tr '\n' ' ')
    if grep -q 'ERROR' "$out/$name.peer.log"; then pfound="$pfound(error: $(grep -m1 ERROR "$out/$name.peer.log"))"; fi
    printf '%-8s %-8s %9s %9s %8s  %s\n' "$name" peer "$pwall" "$pcpu" "$prss" "$pfound"
    echo "$name: differ/peer CPU $(awk -v a="$cpu" -v b="$pcpu" 'BEGIN {if (b > 0) printf "%.2fx (peer/differ %.1fx)", a / b, (a > 0 ? b / a : 0); else print "n/a"}'), RSS $(awk -v a="$rss" -v b="$prss" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "n/a"}')"
  fi
done < <(pairs)
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
