#!/usr/bin/env bash
# vm tier, smoke: one boot shows the guest runs Debian's kernel (uname -r = the cached ABI),
# /proc/cmdline carries the --append words, --env reaches the command, stdout and stderr
# come back separately and unmixed with the kernel console, and CMD's exit code (7) is
# vm-run's exit code.
. "$(dirname "$0")/lib.sh"
abi=$(current_abi)
word=nr_smoke_$RANDOM$RANDOM
rc=0
vm "$T/out" "$T/err" --append "$word" --env NR_SMOKE="hello world's" -- \
  sh -c 'uname -r; cat /proc/cmdline; echo "env=$NR_SMOKE"; echo "to-stderr" >&2; exit 7' || rc=$?
expect_rc 7 "$rc" "sh -c 'exit 7' in the guest"
[ "$(sed -n 1p "$T/out")" = "$abi" ] || fail "uname -r printed '$(sed -n 1p "$T/out")', expected $abi"
ok "uname -r in the guest is $abi"
expect_line "$T/out" "^console=ttyS0 .*$word" "/proc/cmdline visible and carries the --append word"
expect_line "$T/out" "^env=hello world's\$" "--env value arrives intact"
[ "$(wc -l < "$T/out")" = 3 ] || fail "stdout has $(wc -l < "$T/out") lines, expected exactly 3 (only the command's output)"
ok "stdout holds only the command's output"
expect_line "$T/err" '^to-stderr$' "stderr comes back"
expect_no_line "$T/out" 'to-stderr' "stderr is not mixed into stdout"
expect_line "$T/err" 'command exited 7; wall' "vm-run reports the exit and timings"
