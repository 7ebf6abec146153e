#!/bin/sh
# Runs INSIDE the guest (vm-run), as one boot: load the sample livepatch, wait for its
# transition, see its effect, disable it, wait for the reverse transition, unload it, see the
# effect gone. Every step is asserted; the first failure prints "FAIL: ..." and exits 1.
# Usage: livepatch-guest.sh MODULE.ko MARKER. Prints "timing <step> <seconds>" lines.
set -u
KO=$1 MARKER=$2 NAME=nr_lp_sample
D=/sys/kernel/livepatch/$NAME
fail() { echo "FAIL: $*"; dmesg | tail -n 15 | sed 's/^/  dmesg: /'; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }
# wait_for SECONDS CONDITION
wait_for() { i=0; while ! eval "$2"; do i=$((i + 1)); [ $i -gt $(($1 * 100)) ] && return 1; sleep 0.01; done; }

orig=$(cat /proc/cmdline)
[ -n "$orig" ] || fail "/proc/cmdline is empty before the patch"
case "$orig" in *"$MARKER"*) fail "/proc/cmdline shows the marker before the patch";; esac
[ ! -e "$D" ] || fail "$D exists before the module is loaded"
taint0=$(cat /proc/sys/kernel/tainted)

t=$(now)
insmod "$KO" marker="$MARKER" || fail "insmod $KO failed"
echo "timing insmod $(since "$t")"
[ -d "$D" ] || fail "$D missing after insmod"
[ "$(cat "$D/enabled")" = 1 ] || fail "$D/enabled is not 1 after insmod"
wait_for 60 '[ "$(cat $D/transition)" = 0 ]' || fail "transition did not complete in 60 s"
echo "timing transition $(since "$t")"
echo "step: loaded, transition complete"

got=$(cat /proc/cmdline)
[ "$got" = "$MARKER" ] || fail "/proc/cmdline is '$got' while patched, expected '$MARKER'"
echo "step: /proc/cmdline shows the marker"
taint1=$(cat /proc/sys/kernel/tainted)
[ $((taint1 & 32768)) -ne 0 ] || fail "kernel not tainted K (livepatch) after the load: $taint1 (before: $taint0)"
lsmod | grep -q "^$NAME " || fail "lsmod does not list $NAME"

t=$(now)
echo 0 > "$D/enabled" || fail "cannot write 0 to $D/enabled"
wait_for 60 '[ ! -e "$D" ]' || fail "$D still there 60 s after disabling"
echo "timing unpatch $(since "$t")"
echo "step: disabled, reverse transition complete"
[ "$(cat /proc/cmdline)" = "$orig" ] || fail "/proc/cmdline is '$(cat /proc/cmdline)' after disabling, expected the original"
t=$(now)
rmmod "$NAME" || fail "rmmod $NAME failed"
echo "timing rmmod $(since "$t")"
! lsmod | grep -q "^$NAME " || fail "$NAME still listed after rmmod"
[ "$(cat /proc/cmdline)" = "$orig" ] || fail "/proc/cmdline changed after rmmod"
echo "step: unloaded, /proc/cmdline is the original again"
dmesg | grep -q "$NAME: enabling, marker '$MARKER'" || fail "dmesg lacks the module's own message"
echo "PASS"
