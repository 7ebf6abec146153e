#!/usr/bin/env bash
# vm tier, kernel faults: a kernel panic in the guest makes vm-run exit 125 and say
# "panicked" (the command never reports its exit); an Oops that the command survives still
# fails the run (125) with "reported a fault" although the command exited 0; the kernel
# WARNING logged just before it is reported too.
. "$(dirname "$0")/lib.sh"
rc=0
vm "$T/out" "$T/err" -- sh -c 'echo c > /proc/sysrq-trigger; echo survived' || rc=$?
expect_rc 125 "$rc" "kernel panic"
expect_line "$T/err" 'the guest kernel panicked' "panic reported"
expect_line "$T/err" 'Kernel panic - not syncing: sysrq triggered crash' "panic message shown"
expect_no_line "$T/out" 'survived' "the command did not go on"

ko=$("$BUILD_MODULE" "$VM/modules/oops" "$T/mod")
rc=0
vm "$T/out" "$T/err" --share "$T/mod" -- sh -c 'insmod "$1"; echo "insmod exited $?"; exit 0' sh "$ko" || rc=$?
cat "$T/out"
expect_rc 125 "$rc" "oops during a command that exits 0"
expect_line "$T/err" 'command exited 0' "the command itself finished"
expect_line "$T/out" '^insmod exited [1-9]' "insmod was killed by the oops, the command went on"
expect_line "$T/err" 'reported a fault during the run' "oops reported"
expect_line "$T/err" 'BUG: kernel NULL pointer dereference|Oops:' "oops message shown"
expect_line "$T/err" 'logged warnings' "the WARNING before the oops reported"
expect_line "$T/err" 'WARNING: .*nr_oops' "the warning's line shown"
