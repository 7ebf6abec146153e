#!/usr/bin/env bash
# vm tier, livepatch: build the hand-written livepatch sample against the target headers
# (tests/vm/build-module), then in ONE boot load it, wait for its transition, see the marker
# in /proc/cmdline, disable it, wait for the reverse transition, rmmod it, and see the
# original /proc/cmdline again (tests/vm/cases/livepatch-guest.sh asserts every step).
. "$(dirname "$0")/lib.sh"
abi=$(current_abi)
ko=$("$BUILD_MODULE" "$VM/modules/livepatch-sample" "$T/mod")
[ -f "$ko" ] || fail "build-module printed '$ko', not a module"
[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$abi" ] || fail "vermagic of $ko is not for $abi"
[ "$(modinfo -F livepatch "$ko")" = Y ] || fail "$ko lacks modinfo livepatch: Y"
ok "built $(basename "$ko") for $abi"
[ ! -e "$VM/modules/livepatch-sample/nr_lp_sample.o" ] || fail "build-module wrote into the source folder"
ok "build-module left its source folder untouched"
marker=NR-MARKER-$RANDOM$RANDOM
rc=0
vm "$T/out" "$T/err" --share "$T/mod" --share "$VM/cases" -- sh "$VM/cases/livepatch-guest.sh" "$ko" "$marker" || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest livepatch script"
expect_line "$T/out" '^PASS$' "every guest step passed"
for s in "loaded, transition complete" "shows the marker" "reverse transition complete" "unloaded"; do
  expect_line "$T/out" "^step: .*$s" "guest step: $s"
done
grep '^timing' "$T/out" | sed 's/^/measured: /'
