# Helpers for the vm tier's host-side test scripts (sourced), on the shell test library
# (tests/lib/testlib.sh: fail, pass, on_exit). Each test gets its own temporary folder $T
# (removed on exit), runs tests/vm/vm-run, and asserts with these.
set -euo pipefail
VM=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$VM/../lib/testlib.sh"
VM_RUN=$VM/vm-run
BUILD_MODULE=$VM/build-module
testlib_workdir vmtest
T=$work
ok() { pass "$@"; }   # the vm cases' name for testlib's pass
# expect_rc WANT GOT WHAT
expect_rc() { [ "$2" = "$1" ] || fail "$3: exit code $2, expected $1"; ok "$3: exit code $1"; }
# expect_line FILE REGEX WHAT: some line of FILE matches the extended REGEX
expect_line() { grep -Eq -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "$3: no line matches /$2/ in $(basename "$1")"; }; ok "$3"; }
expect_no_line() { ! grep -Eq -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "$3: a line matches /$2/ in $(basename "$1")"; }; ok "$3"; }
# vm OUT ERR ARGS...: run vm-run with stdout and stderr captured, echo stderr, return its code
vm() {
  local out=$1 err=$2; shift 2
  local rc=0
  "$VM_RUN" "$@" > "$out" 2> "$err" || rc=$?
  sed 's/^/  [vm-run stderr] /' "$err"
  return "$rc"
}
# Resolve the kernel once per test (kernel-fetch asks apt, ~1 s); vm-run and build-module
# take NOREBOOT_ABI from the environment.
if [ -z "${NOREBOOT_ABI:-}" ]; then
  NOREBOOT_ABI=$("$VM/../../scripts/kernel-fetch" | sed -n 's/^NR_ABI=//p')
  [ -n "$NOREBOOT_ABI" ] || fail "scripts/kernel-fetch did not name a kernel ABI"
fi
export NOREBOOT_ABI
current_abi() { echo "$NOREBOOT_ABI"; }
