# tests/feed/lib.sh: the preamble of the feed's real-world tests (feed-kill.sh,
# november-replay.sh), on the shell test library (tests/lib/testlib.sh). Source it as
#   . "$(dirname "$0")/lib.sh" BUILD_DIR WORKDIR_PREFIX
# It sets B (the build folder), here, repo, the binaries the tests drive (feed, server, admin,
# agent, fake, build: each must exist), a work folder T removed at exit, and makes the test
# signal-proof: SIGINT/SIGTERM (ctest's timeout) run the test's cleanup, which a second signal
# cannot cut short, so no server, VM or builder outlives it. Helpers: ok (pass with the
# seconds since the start), py, three_newest_kernels, feed_tools.
set -euo pipefail
B=$(cd "${1:?usage: $(basename "$0") BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/lib/testlib.sh"
testlib_signal_proof
feed=$B/src/feed/noreboot-feed server=$B/src/server/noreboot-server admin=$B/src/admin/noreboot-admin
agent=$B/src/agent/noreboot fake=$B/src/agent/noreboot-fake-kernel build=$B/src/builder/noreboot-build
for b in "$feed" "$server" "$admin" "$agent" "$fake" "$build"; do
  [ -x "$b" ] || fail "'$b' is not an executable (build first)"
done
testlib_workdir "$2"
T=$work
test_start=$SECONDS
ok() { pass "$*  [$((SECONDS - test_start)) s]"; }
py() { python3 -c "$@"; }

# three_newest_kernels: OLD, MID and NEW, the three newest complete kernels of the archive
# (old_abi old_v, mid_abi mid_v, new_abi new_v), each with its tree prepared (once, cached).
three_newest_kernels() {
  local abi
  newest_kernels 3
  read -r old_abi old_v <<< "${kernels[0]}"
  read -r mid_abi mid_v <<< "${kernels[1]}"
  read -r new_abi new_v <<< "${kernels[2]}"
  for abi in "$old_abi" "$mid_abi" "$new_abi"; do
    "$build" prepare --kernel "debian:$abi" > "$T/prepare-$abi.log" 2>&1 || { cat "$T/prepare-$abi.log"; fail "preparing $abi"; }
  done
}

# feed_tools ADMIN: the [tools] table of a feed.toml: the project's scripts, this build's
# builder, and ADMIN as the admin tool the feed drives.
feed_tools() {
  cat <<TOML
[tools]
debian_fix = "$repo/scripts/debian-fix"
build = "$build"
admin = "$1"
vm = "$repo/scripts/noreboot-vm"
kernel_fetch = "$repo/scripts/kernel-fetch"
TOML
}
