# vm_lib.sh: the host-side preamble of the agent's VM tests (vm_agent.sh, vm_reboot.sh), sourced
# with their arguments NOREBOOT NOREBOOT_ADMIN. On tests/vm/cases/lib.sh (the shell test
# library, $T, vm, expect_*), it checks both binaries, sets NOREBOOT, ADMIN, HERE and the target
# kernel's paths (NR_VMLINUX, ... from scripts/kernel-fetch), makes $T/mod, $T/b, $T/keys and
# $T/cfg, reads the kernel's identity into $T/id.json and makes the publisher key
# $T/keys/publisher.{key,pub} that signs the test bundles.
. "$(cd "$(dirname "$0")/../../.." && pwd)/tests/vm/cases/lib.sh"
NOREBOOT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ADMIN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$NOREBOOT" ] || fail "noreboot binary '$NOREBOOT' not found (build first)"
[ -x "$ADMIN" ] || fail "noreboot-admin '$ADMIN' not found: the bundle part's admin tool signs the test bundles"

eval "$("$VM/../../scripts/kernel-fetch" --quiet)"
mkdir -p "$T/mod" "$T/b" "$T/keys" "$T/cfg"
"$ADMIN" kernel-id --json "$NR_VMLINUX" > "$T/id.json" || fail "noreboot-admin kernel-id $NR_VMLINUX"
"$ADMIN" keygen "$T/keys/publisher" > /dev/null || fail "keygen publisher"
