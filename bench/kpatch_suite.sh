#!/bin/bash
# kpatch_suite.sh KPATCH_CHECKOUT [--suite NAME] [--abi ABI] [--only N | --patch NAME] [--build PATH] [-o DIR]
#
# Builds the patches of kpatch's integration suite with noreboot-build, for Debian's current
# kernel (or --abi ABI), and reports per patch: built, nothing to patch, refused (the
# builder's reasons), or failed (does not apply, does not compile, other error), then totals
# and the refusal reasons grouped. Not CI: every patch costs two compiles of the files it
# touches (kernel/sched/core.c: minutes under load).
#
#   KPATCH_CHECKOUT  a kpatch source tree (test/integration/<suite>/*.patch)
#   --suite NAME     the suite folder; default: linux-6.2.0, the one closest to Debian 12's 6.1
#                    (kpatch has linux-5.10.11, 5.18.0, 6.2.0 and 6.17.0 suites)
#   --only N         the first N patches only (sorted by name); --patch NAME: that one only
#   --build PATH     the noreboot-build binary (default: build/src/builder/noreboot-build)
#   -o DIR           keeps the bundles and the logs there (default: a temp dir, removed)
#
#   --vm             then, in one guest of the same kernel (scripts/noreboot-vm), load each
#                    built patch that has a `*-LOADED.test`, wait for its transition, run the
#                    test with sh, disable and unload it: "loaded NAME: PASS / FAIL"
#
# kpatch's `*-FAIL.patch` are patches kpatch itself must refuse; they are built too and marked
# "(kpatch: FAIL)" so the two verdicts can be compared. Some LOADED tests need tools the guest
# lacks (sudo, modprobe): they report FAIL.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case $1 in -h|--help) usage; exit 0 ;; esac
checkout=$1; shift
suite=linux-6.2.0 abi= only=0 one= vm=0 tool=$here/build/src/builder/noreboot-build outdir=
while [ $# -gt 0 ]; do
  case $1 in
    --suite) suite=$2; shift 2 ;;
    --abi) abi=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --patch) one=$2; shift 2 ;;
    --vm) vm=1; shift ;;
    --build) tool=$2; shift 2 ;;
    -o) outdir=$2; shift 2 ;;
    *) echo "kpatch_suite: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
dir=$checkout/test/integration/$suite
[ -d "$dir" ] || { echo "kpatch_suite: no suite at $dir (see --suite; $(ls "$checkout/test/integration" 2>/dev/null | grep -E '^linux-' | tr '\n' ' '))" >&2; exit 2; }
[ -x "$tool" ] || { echo "kpatch_suite: $tool is not an executable (build noreboot-build, or pass --build)" >&2; exit 2; }
if [ -z "$abi" ]; then
  abi=$("$here/scripts/kernel-fetch" --list current | awk '{print $1; exit}')
fi
if [ -z "$outdir" ]; then
  outdir=$(mktemp -d "${TMPDIR:-/tmp}/kpatch-suite.XXXXXX")
  trap 'rm -rf "$outdir"' EXIT
fi
mkdir -p "$outdir"

echo "# kpatch suite $suite ($(git -C "$checkout" rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")), kernel $abi, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
built=0 nothing=0 refused=0 failed=0 n=0
: > "$outdir/reasons"
for patch in $(ls "$dir"/*.patch | sort); do
  name=$(basename "$patch" .patch)
  n=$((n + 1))
  [ "$only" = 0 ] || [ "$n" -le "$only" ] || break
  [ -z "$one" ] || [ "$name" = "$one" ] || continue
  expect=""
  case $name in *-FAIL) expect=" (kpatch: FAIL)" ;; esac
  loaded=""
  if [ -f "$dir/${name}-LOADED.test" ]; then
    loaded=" [has ${name}-LOADED.test$([ "$vm" = 1 ] || echo ': not run, see --vm')]"
  fi
  start=$(date +%s)
  set +e
  timeout 1800 "$tool" --kernel "debian:$abi" --patch "$patch" -o "$outdir/$name.nrp" >"$outdir/$name.out" 2>"$outdir/$name.err"
  rc=$?
  set -e
  secs=$(($(date +%s) - start))
  case $rc in
    0) verdict="built"; built=$((built + 1)) ;;
    4) verdict="nothing to patch: $(tail -1 "$outdir/$name.err")"; nothing=$((nothing + 1)) ;;
    3)
      if grep -q "does not apply" "$outdir/$name.err"; then
        verdict="failed: does not apply"; failed=$((failed + 1))
      elif grep -q "does not compile" "$outdir/$name.err"; then
        verdict="failed: does not compile: $(grep -m1 'error:' "$outdir/$name.err" || true)"; failed=$((failed + 1))
      else
        # The differ's refusals read "refused: SYMBOL: REASON"; the klp stage's list its
        # references after "cannot be livepatched:". Grouped by reason, without the symbol.
        reasons=$({ grep 'refused: ' "$outdir/$name.err" || true; } | sed 's/^.*refused: [^:]*: //')
        [ -n "$reasons" ] || reasons=$({ grep -A1 'cannot be livepatched' "$outdir/$name.err" || true; } | tail -1 |
          sed "s/^ *- '[^']*' //")
        [ -n "$reasons" ] || reasons=$(tail -1 "$outdir/$name.err")
        verdict="refused: $(printf '%s\n' "$reasons" | head -3 | cut -c1-200 | paste -sd';' -)"
        refused=$((refused + 1))
        printf '%s\n' "$reasons" | cut -c1-120 >> "$outdir/reasons"
      fi ;;
    124) verdict="failed: timed out after 1800 s"; failed=$((failed + 1)) ;;
    *) verdict="failed (exit $rc): $(tail -1 "$outdir/$name.err")"; failed=$((failed + 1)) ;;
  esac
  printf '%-40s %5ss  %s%s\n' "$name$expect" "$secs" "$verdict" "$loaded"
done
if [ "$vm" = 1 ]; then
  # One guest for every built patch with a LOADED test: load, wait, test, disable, unload.
  g=$outdir/loaded
  mkdir -p "$g"
  names=""
  for f in "$outdir"/*.nrp; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .nrp)
    [ -f "$dir/${name}-LOADED.test" ] || continue
    mkdir -p "$g/$name"
    tar -xf "$f" -C "$g/$name"
    cp "$dir/${name}-LOADED.test" "$g/$name/test"
    names="$names $name"
  done
  if [ -n "$names" ]; then
    cat > "$g/guest.sh" <<GUEST
for n in $names; do
  ko=\$(ls $g/\$n/*.ko); p=\$(basename "\$ko" .ko)
  insmod "\$ko" || { echo "loaded \$n: FAIL (insmod)"; continue; }
  i=0; while [ "\$(cat /sys/kernel/livepatch/\$p/transition)" != 0 ] && [ \$i -lt 60 ]; do sleep 1; i=\$((i+1)); done
  if sh $g/\$n/test; then echo "loaded \$n: PASS"; else echo "loaded \$n: FAIL"; fi
  echo 0 > /sys/kernel/livepatch/\$p/enabled
  i=0; while [ -d /sys/kernel/livepatch/\$p ] && [ \$i -lt 60 ]; do sleep 1; i=\$((i+1)); done
  rmmod "\$p" || echo "loaded \$n: rmmod failed"
done
GUEST
    "$here/scripts/noreboot-vm" --abi "$abi" --share "$g" --timeout 600 -- sh "$g/guest.sh" 2>&1 | sed 's/^/# /' || true
  fi
fi
echo "# totals: $((built + nothing + refused + failed)) patches: $built built, $nothing nothing to patch, $refused refused, $failed failed"
if [ -s "$outdir/reasons" ]; then
  echo "# refusal reasons (count, reason):"
  sort "$outdir/reasons" | uniq -c | sort -rn | sed 's/^/#   /'
fi
