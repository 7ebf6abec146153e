#!/bin/sh
# Runs INSIDE the guest (tests/vm/vm-run), one boot for the whole corpus.
#   guest-corpus.sh KODIR CHECKDIR NAME... -- FIRST SECOND
# For every NAME: the check fails before the load; insmod KODIR/NAME.ko; the transition
# completes; the check passes; disable; the reverse transition completes; rmmod; the check
# fails again. Then the cumulative pair: FIRST loaded and checked, SECOND loaded on top (its
# klp_patch has replace = true), one transition, FIRST's patch gone and its check failing,
# SECOND's check passing; then SECOND disabled and both modules removed.
# NAME.setup / NAME.teardown (optional): load the patch's target module only after the
# livepatch (MODDIR in the environment: the image's lib/modules/ABI), unload it at the end.
# Prints "ok NAME" / "FAIL NAME: why" per fix, "timing ..." lines, and "PASS" when all passed.
set -u
KODIR=$1 CHECKDIR=$2
shift 2
failures=0
fail() { echo "FAIL $1: $2"; dmesg | tail -n 8 | sed 's/^/  dmesg: /'; failures=$((failures + 1)); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
wait_for() { i=0; while ! eval "$2"; do i=$((i + 1)); [ $i -gt $(($1 * 20)) ] && return 1; sleep 0.05; done; }
mod_of() { echo "nr_$1" | tr -- '-' '_'; }
check() { sh "$CHECKDIR/$1.check" >/dev/null 2>&1; }

# load NAME: insmod and wait for the transition; 0 on success
load() {
  m=$(mod_of "$1"); d=/sys/kernel/livepatch/$m
  t=$(now)
  insmod "$KODIR/$1.ko" || { fail "$1" "insmod failed"; return 1; }
  [ -d "$d" ] || { fail "$1" "$d missing after insmod"; return 1; }
  wait_for 60 '[ "$(cat $d/transition)" = 0 ]' || { fail "$1" "transition did not finish in 60 s"; return 1; }
  echo "timing $1 load+transition $(since "$t")"
}
# unload NAME: disable, wait for the reverse transition, rmmod
unload() {
  m=$(mod_of "$1"); d=/sys/kernel/livepatch/$m
  t=$(now)
  if [ -d "$d" ]; then
    echo 0 > "$d/enabled" || { fail "$1" "cannot disable"; return 1; }
    wait_for 60 '[ ! -e "$d" ]' || { fail "$1" "$d still there 60 s after disabling"; return 1; }
  fi
  rmmod "$m" || { fail "$1" "rmmod failed"; return 1; }
  echo "timing $1 disable+rmmod $(since "$t")"
}

while [ $# -gt 0 ] && [ "$1" != -- ]; do
  n=$1; shift
  if check "$n"; then fail "$n" "check passes before the patch is loaded"; continue; fi
  load "$n" || continue
  # NAME.setup: the patch targets a module loaded only now, after the livepatch (the livepatch
  # core applies the patch when the module comes). NAME.teardown unloads it at the end.
  late=0
  if [ -f "$CHECKDIR/$n.setup" ]; then
    late=1
    sh "$CHECKDIR/$n.setup" || { fail "$n" "setup (loading the target module) failed"; unload "$n"; continue; }
  fi
  if ! check "$n"; then fail "$n" "check fails while the patch is applied"; unload "$n"; continue; fi
  unload "$n" || continue
  if check "$n"; then fail "$n" "check still passes after disable and rmmod"; continue; fi
  if [ $late = 1 ]; then
    sh "$CHECKDIR/$n.teardown" || { fail "$n" "teardown failed"; continue; }
    echo "ok $n (target module loaded after the livepatch)"
    continue
  fi
  echo "ok $n"
done
[ "${1:-}" = -- ] && shift
if [ $# -eq 2 ]; then
  a=$1 b=$2
  if load "$a" && check "$a"; then
    t=$(now)
    if load "$b"; then
      echo "timing cumulative replace $(since "$t")"
      if [ -e "/sys/kernel/livepatch/$(mod_of "$a")" ]; then fail cumulative "$a still registered after $b replaced it"
      elif check "$a"; then fail cumulative "$a's check passes after the replace"
      elif ! check "$b"; then fail cumulative "$b's check fails after the replace"
      else echo "ok cumulative $a -> $b"; fi
      unload "$b"
    fi
    rmmod "$(mod_of "$a")" || fail cumulative "rmmod $(mod_of "$a") failed"
    check "$b" && fail cumulative "$b's check passes after disable and rmmod"
  else
    fail cumulative "$a did not load or check"
  fi
fi
dmesg | grep -E 'WARNING:|BUG:|Oops' && fail kernel "the kernel logged a warning or oops"
[ $failures -eq 0 ] && echo PASS
exit $failures
