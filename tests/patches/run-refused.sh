#!/usr/bin/env bash
# shell tier: every NAME-refused.patch is refused by noreboot-build with exit 3, the reason in
# NAME-refused.refused on stderr, and no output file written. Usage: run-refused.sh NOREBOOT_BUILD
set -uo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-refused   # build, $T, pass, fail (counting: every fix reports), finish
TESTLIB_KEEP_GOING=1
for want in "$here"/*.refused; do
  n=$(basename "$want" .refused)
  rc=0
  "$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/$n.patch" -o "$T/$n.nrp" > "$T/$n.log" 2>&1 || rc=$?
  if [ $rc -ne 3 ]; then fail "$n: exit $rc, expected 3"; sed 's/^/  /' "$T/$n.log"; continue; fi
  if ! grep -q '^refused: ' "$T/$n.log" || ! grep -qF "$(cat "$want")" "$T/$n.log"; then
    fail "$n: stderr lacks '$(cat "$want")'"; sed 's/^/  /' "$T/$n.log"; continue
  fi
  grep -q '  what to do: ' "$T/$n.log" || { fail "$n: no 'what to do'"; continue; }
  [ ! -e "$T/$n.nrp" ] || { fail "$n: wrote $T/$n.nrp"; continue; }
  pass "$n: $(grep '^refused: ' "$T/$n.log" | head -1)"
done
finish
