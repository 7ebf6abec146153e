#!/usr/bin/env bash
# bench/compile_bench.sh: what compiling noreboot costs a newcomer, in CPU seconds.
#
#   bench/compile_bench.sh [--all] [--src CHECKOUT] [--keep] [--jobs N] [-- CMAKE_ARGS...]
#
# Default: the build `scripts/demo` does (its configure options and its --target list, read
# from CHECKOUT's own scripts/demo, so an older checkout is measured with its own demo's
# build). --all: the build `scripts/test` does first (every target, with its configure
# options, also read from CHECKOUT). CHECKOUT defaults to this checkout; give a `git worktree`
# of another commit to measure before and after on the same machine. CMAKE_ARGS are added to
# the configure line.
#
# Every run is a clean build directory (a temporary folder, removed unless --keep) and no
# ccache (CCACHE_DISABLE=1, no launcher): what a fresh machine pays. Prints the CPU seconds
# (user+sys of the build and every compiler it started, from /usr/bin/time), the wall
# seconds, the load average before and after, and the 15 slowest steps from ninja's log.
# On a shared machine compare CPU seconds: wall time is mostly waiting for a core.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here; all=0; keep=0; jobs=$(nproc); extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1; shift ;;
    --src) src=$(cd "$2" && pwd); shift 2 ;;
    --keep) keep=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "compile_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "compile_bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

# The -D options of SCRIPT's first `cmake -S . -B build ` line (its main build folder; not
# build-asan): what that script configures, in the checkout being measured.
main_build_options() { grep -m1 -E '^\s*cmake -S \. -B build ' "$1" | grep -oE -- '-D[^ ]+'; }

if [ "$all" = 1 ]; then
  what="scripts/test's build (all targets)"
  mapfile -t configure < <(main_build_options "$src/scripts/test")
  targets=()
else
  what="scripts/demo's build"
  demo=$src/scripts/demo
  # The demo's own configure options and its --target list.
  mapfile -t configure < <(main_build_options "$demo")
  mapfile -t targets < <(grep -m1 -E '^\s*cmake --build build' "$demo" | sed -E 's/.*--target ([^|\\]*).*/\1/' | tr ' ' '\n' | grep .)
  [ ${#targets[@]} -gt 0 ] || { echo "compile_bench: no --target list found in $demo" >&2; exit 1; }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/noreboot-compile-bench.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "build folder kept: $dir"; else rm -rf "$dir"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export CCACHE_DISABLE=1

echo "compile_bench: $what of $src ($(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "  configure: ${configure[*]} ${extra[*]}"
[ ${#targets[@]} -gt 0 ] && echo "  targets:   ${targets[*]}"
echo "  $(nproc) cores, -j$jobs, $(${CXX:-c++} --version | head -1)"
cmake -S "$src" -B "$dir" -G Ninja "${configure[@]}" "${extra[@]}" >/dev/null

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
target_args=()
[ ${#targets[@]} -gt 0 ] && target_args=(--target "${targets[@]}")
/usr/bin/time -o "$dir/time.txt" -f '%U %S %e' cmake --build "$dir" -j "$jobs" "${target_args[@]}" >"$dir/build.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
read -r user sys wall < "$dir/time.txt"

# Compiler runs: one per source file, or per unity batch (Unity/unity_N_cxx.cxx.o).
units=$(grep -c -E '\.(cc|cpp|cxx|c)\.o$' <(awk 'NR > 1 { print $4 }' "$dir/.ninja_log") || true)
printf '  load average before: %s, after: %s\n' "$load_before" "$load_after"
printf '  compiler runs (files or unity batches): %s\n' "$units"
awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN { printf "  CPU: %.1f s (user %.1f, sys %.1f)   wall: %.1f s\n", u + s, u, s, w }'
echo "  slowest steps (wall seconds each, from .ninja_log):"
awk 'NR > 1 { printf "%8.1f  %s\n", ($2 - $1) / 1000, $4 }' "$dir/.ninja_log" | sort -rn | head -15
