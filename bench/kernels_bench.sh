#!/usr/bin/env bash
# One fix, many kernels: what a multi-kernel build costs, per kernel, and what the cache holds.
#
#   bench/kernels_bench.sh [--bin noreboot-build] [--cache DIR] KERNEL-SPEC... -- FROM TO
#   e.g. bench/kernels_bench.sh debian:all -- 6.1.192-2 6.1.192-3
#
# Builds the fix between two Debian versions (scripts/debian-fix FROM TO) for the given kernels
# (--kernel each; debian:all = every ABI of the series the archive serves) twice: the first run
# as the cache is (use --cache with an empty folder for a cold run: every download, unpack,
# tree prepare and symbol index), the second run warm. Prints per kernel the outcome and the
# seconds of each run (from the builder's summary.json), the wall and CPU time of each run, the
# load average, and `noreboot-build cache list` (what the cache holds per kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bin=$repo/build/src/builder/noreboot-build
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --cache) export NOREBOOT_CACHE=$2; mkdir -p "$2"; shift 2 ;;
    --) shift; break ;;
    *) specs+=(--kernel "$1"); shift ;;
  esac
done
[ $# -eq 2 ] && [ ${#specs[@]} -gt 0 ] || { awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
T=$(mktemp -d /tmp/nr-kbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config
"$repo/scripts/debian-fix" "$1" "$2" -o "$T/fix.patch" 2>/dev/null
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; fix $1 -> $2: $(grep -c '^+++ ' "$T/fix.patch") file(s)"
for run in 1 2; do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -f "%e %U %S" -o "$T/time$run" "$bin" "${specs[@]}" --patch "$T/fix.patch" -o "$T/out$run" \
    > "$T/log$run" 2>&1 || true
  read -r wall user sys < "$T/time$run"
  echo "run $run: wall ${wall} s, cpu $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.0f", u + s}') s, load before: $load"
done
echo
echo "| kernel | version | outcome | run 1 (s) | run 2 (s) |"
echo "|---|---|---|---|---|"
jq -r --slurpfile b "$T/out2/summary.json" '.kernels[] as $k | ($b[0].kernels[] | select(.abi == $k.abi)) as $w |
  "| \($k.abi) | \($k.version) | \($k.outcome) | \($k.seconds) | \($w.seconds) |"' "$T/out1/summary.json"
echo
"$bin" cache list
