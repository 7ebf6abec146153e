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

# QEMU itself dying of a signal before the guest started the command (seen once under TCG:
# SIGSEGV 2.5 s into the boot) is booted once more, and said; a QEMU that always dies is a
# harness failure (125) naming QEMU's exit. A wrapper first in PATH plays the crash.
real_qemu=$(command -v qemu-system-x86_64)
mkdir -p "$T/bin"
cat > "$T/bin/qemu-system-x86_64" <<WRAP
#!/bin/sh
# crashes while \$T/crashes-left holds a positive count, then is the real QEMU
n=\$(cat "$T/crashes-left")
if [ "\$n" -gt 0 ]; then echo \$((n - 1)) > "$T/crashes-left"; kill -SEGV \$\$; fi
exec "$real_qemu" "\$@"
WRAP
chmod +x "$T/bin/qemu-system-x86_64"

echo 1 > "$T/crashes-left"
rc=0
PATH="$T/bin:$PATH" vm "$T/out" "$T/err" -- sh -c 'echo ran once' || rc=$?
expect_rc 0 "$rc" "QEMU crashed once, the second boot ran the command"
expect_line "$T/err" 'QEMU itself died from signal 11 .*booting once more' "the crash and the retry said"
[ "$(grep -c '^ran once$' "$T/out")" = 1 ] || fail "the command ran $(grep -c '^ran once$' "$T/out") times, want 1"
ok "the command ran once"

echo 2 > "$T/crashes-left"
rc=0
PATH="$T/bin:$PATH" vm "$T/out" "$T/err" -- sh -c 'echo ran' || rc=$?
expect_rc 125 "$rc" "QEMU crashed twice"
expect_line "$T/err" 'stopped without reporting the command.s exit status \(qemu exit 139' "the second crash reported with QEMU's exit"
expect_no_line "$T/out" '^ran$' "the command did not run"
