#!/usr/bin/env bash
# shell tier: a prepare killed midway leaves no valid tree behind: no tree.done marker, and the
# next prepare removes the leftovers and starts again (killed a second time, once it has said
# so). Runs in a throw-away kernel folder: a fake kernel-fetch hands out the real cached
# packages with NR_KDIR pointing at it. Usage: prepare-kill.sh NOREBOOT_BUILD
set -uo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-kill   # build, $T, fail (counting: every check reports), finish
TESTLIB_KEEP_GOING=1
pid=
on_exit '[ -n "$pid" ] && kill -9 -- -"$pid" 2>/dev/null'   # a prepare still running, its whole group
real_cache=${NOREBOOT_CACHE:-$HOME/.cache/noreboot}
cat > "$T/fetch" <<FETCH
#!/bin/sh
NOREBOOT_CACHE=$real_cache "$repo/scripts/kernel-fetch" "\$@" --quiet | sed "s#^NR_KDIR=.*#NR_KDIR=$T/kdir#"
FETCH
chmod +x "$T/fetch"
mkdir -p "$T/kdir"
export NOREBOOT_KERNEL_FETCH=$T/fetch
export NOREBOOT_CACHE=$T/cache   # so the builder's warm path (fetch.env of the real cache) is not taken

# run_and_kill LOG PATTERN: start a prepare in its own process group, SIGKILL it once LOG
# shows PATTERN and a few more seconds have passed.
run_and_kill() {
  setsid "$build" prepare --kernel "debian:${NOREBOOT_ABI:-current}" > "$T/out" 2> "$1" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "$2" "$1" && break; sleep 0.1; done
  sleep 3
  kill -9 -- -"$pid"; wait "$pid" 2>/dev/null; pid=
}
run_and_kill "$T/log1" '\[prepare:untar\]'
[ -d "$T/kdir/tree" ] || fail "the first run made no tree before it was killed"
[ ! -e "$T/kdir/tree.done" ] || fail "tree.done exists after a killed prepare"
echo "killed during untar: $(du -sh "$T/kdir/tree" | cut -f1) left, no tree.done"
run_and_kill "$T/log2" '\[prepare:untar\]'
grep -q 'removing .*an earlier prepare did not finish' "$T/log2" || { fail "the second run did not remove the leftovers"; cat "$T/log2"; }
[ ! -e "$T/kdir/tree.done" ] || fail "tree.done exists after the second kill"
finish
