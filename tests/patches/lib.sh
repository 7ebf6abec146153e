# lib.sh: the preamble of the builder's tests in tests/patches, on the shell test library
# (tests/lib/testlib.sh). Source it as
#   . "$(dirname "$0")/lib.sh" NOREBOOT_BUILD WORKDIR_PREFIX
# It sets build (the builder), here (this folder), repo, a work folder T removed at exit, and
# XDG_CONFIG_HOME inside it: the builder's publisher key is a throw-away one, never the user's.
build=${1:?usage: $(basename "$0") NOREBOOT_BUILD}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/lib/testlib.sh"
testlib_workdir "$2"
T=$work
export XDG_CONFIG_HOME=$T/config
