#!/usr/bin/env bash
# vm tier, module signatures: with module.sig_enforce=1 on the kernel command line, the same
# unsigned livepatch sample that loads in livepatch.sh is refused: insmod fails, dmesg says
# the unsigned module was rejected, and no livepatch appears.
. "$(dirname "$0")/lib.sh"
ko=$("$BUILD_MODULE" "$VM/modules/livepatch-sample" "$T/mod")
rc=0
vm "$T/out" "$T/err" --share "$T/mod" --append module.sig_enforce=1 -- sh -c '
  cat /sys/module/module/parameters/sig_enforce
  if insmod "$1" marker=SHOULD-NOT-LOAD; then echo "insmod: loaded"; else echo "insmod: refused ($?)"; fi
  dmesg | grep -i "unsigned module" || echo "dmesg: nothing about unsigned modules"
  ls /sys/kernel/livepatch/
  cat /proc/cmdline' sh "$ko" || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest script"
expect_line "$T/out" '^Y$' "sig_enforce is on in the guest"
expect_line "$T/out" '^insmod: refused' "insmod of the unsigned module fails"
expect_line "$T/out" 'Loading of unsigned module is rejected' "dmesg says why"
expect_no_line "$T/out" 'nr_lp_sample|SHOULD-NOT-LOAD' "no livepatch registered, /proc/cmdline unpatched"
