#!/usr/bin/env bash
# shell tier: every NAME-refused.patch is refused by noreboot-build with exit 3, the reason in
# NAME-refused.refused on stderr, and no output file written. Usage: run-refused.sh NOREBOOT_BUILD
set -uo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/nr-refused.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config
fails=0
for want in "$here"/*.refused; do
  n=$(basename "$want" .refused)
  rc=0
  "$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/$n.patch" -o "$T/$n.nrp" > "$T/$n.log" 2>&1 || rc=$?
  if [ $rc -ne 3 ]; then echo "FAIL $n: exit $rc, expected 3"; sed 's/^/  /' "$T/$n.log"; fails=$((fails + 1)); continue; fi
  if ! grep -q '^refused: ' "$T/$n.log" || ! grep -qF "$(cat "$want")" "$T/$n.log"; then
    echo "FAIL $n: stderr lacks '$(cat "$want")'"; sed 's/^/  /' "$T/$n.log"; fails=$((fails + 1)); continue
  fi
  grep -q '  what to do: ' "$T/$n.log" || { echo "FAIL $n: no 'what to do'"; fails=$((fails + 1)); continue; }
  [ ! -e "$T/$n.nrp" ] || { echo "FAIL $n: wrote $T/$n.nrp"; fails=$((fails + 1)); continue; }
  echo "ok $n: $(grep '^refused: ' "$T/$n.log" | head -1)"
done
[ $fails -eq 0 ] && echo PASS
exit $fails
