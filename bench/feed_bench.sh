#!/usr/bin/env bash
# bench/feed_bench.sh: the time from "Debian publishes a new kernel version" to "the fleet is
# patched", split by step, measured with the real feed on the real archive.
#
#   bench/feed_bench.sh [BUILD_DIR]        runs the vm-tier replay (tests/feed/november-replay.sh)
#   bench/feed_bench.sh --logs DIR         reads the logs of an earlier replay
#
# Problem: the issue asks how long a fleet stays exposed after Debian ships a fix, and where
# that time goes. Approach: the replay test already does the whole job for real (the feed sees
# Debian's two November versions, derives, builds, smoke-tests every bundle in QEMU, publishes,
# rolls out; VM hosts and fake-kernel agents apply); with NOREBOOT_REPLAY_LOGS set it keeps its
# logs: the feed's output with each line's time (epoch seconds), the builder's summary.json
# (its own seconds per kernel), and GET /v1/fixes polled every 2 s. This script reads them and
# prints one table per Debian version:
#   see new       the run's start to the version's first line (apt-cache madison, the state)
#   derive        scripts/debian-fix: the two linux-source packages compared, the changelog read
#   ask the fleet GET /v1/fleet and /v1/bundles, kernel-fetch --list (the version's own kernel)
#   build         noreboot-build for every fleet kernel, one command (per kernel: the builder's seconds)
#   VM test       noreboot-vm smoke, per kernel that got a bundle (one TCG boot each)
#   publish       noreboot-admin publish: bundles, then the signed record
#   rollout       the fix rollout created
#   to patched    the rollout's start to the first poll with 0 hosts exposed (stages, soaks,
#                 the agents' long polls, download, load, transition, report)
# and the total from the run's start to "patched". The feed handles versions one after the
# other, so the second version's clock starts when the run starts too (its derive waits for
# the first version's steps): both the per-version time and the wall time are shown.
# Trade-off: the poll's 2 s period and the 1 s resolution of the line times bound the accuracy;
# the real latency adds the timer's period and apt-get update, which a replay cannot measure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
logs=""
if [ "${1:-}" = --logs ]; then
  logs=$(cd "${2:?--logs needs a folder}" && pwd)
else
  b=$(cd "${1:-$here/build}" && pwd)
  logs=$(mktemp -d /tmp/nr-feed-bench.XXXXXX)
  echo "feed_bench: running tests/feed/november-replay.sh (logs kept in $logs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  start=$SECONDS
  NOREBOOT_REPLAY_LOGS=$logs bash "$here/tests/feed/november-replay.sh" "$b" > "$logs/replay.out" 2>&1 ||
    { tail -40 "$logs/replay.out"; echo "feed_bench: the replay failed (full output: $logs/replay.out)"; exit 1; }
  echo "feed_bench: replay passed in $((SECONDS - start)) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
[ -s "$logs/feed-run1.log" ] && [ -s "$logs/exposure.log" ] || { echo "feed_bench: no feed-run1.log / exposure.log in $logs"; exit 1; }

python3 - "$logs" <<'PY'
import json, os, re, sys
logs = sys.argv[1]
lines = []
for l in open(os.path.join(logs, "feed-run1.log"), errors="replace"):
    t, _, text = l.rstrip("\n").partition(" ")
    if t.isdigit():
        lines.append((int(t), text))
run_start, run_end = lines[0][0], lines[-1][0]
exposure = []
for l in open(os.path.join(logs, "exposure.log")):
    p = l.split()
    if len(p) >= 3:
        exposure.append((int(p[0]), p[1], int(p[2].split("=")[1])))

# Per version: the times of its lines.
versions = {}
order = []
for t, text in lines:
    m = re.match(r"noreboot-feed: (\S+) -> (\S+)", text)
    if m:
        v = m.group(2); order.append(v); versions[v] = {"events": [(t, "start")]}
        continue
    m = re.match(r"noreboot-feed: (\d\S*): (.*)", text)
    if m and m.group(1) in versions:
        versions[m.group(1)]["events"].append((t, m.group(2)))

print(f"run 1: {run_end - run_start} s from start to exit\n")
for v in order:
    ev = versions[v]["events"]
    def first(pred):
        for t, e in ev:
            if pred(e): return t
        return None
    t_start = first(lambda e: e == "start")
    t_derived = first(lambda e: e.startswith("fix derived"))
    t_build = first(lambda e: e.startswith("building for"))
    t_built = first(lambda e: re.match(r"\S+=(built|already_fixed|failed|refused)", e.strip()) is not None)
    tests = [(t, e) for t, e in ev if e.startswith("testing ")]
    t_pub = first(lambda e: e.startswith("published"))
    t_roll = first(lambda e: e.startswith("rolled out") or e.startswith("published;"))
    fix_ids = re.findall(r"(\S+) \((?:created|exists)", next((e for t, e in ev if e.startswith("rolled out")), ""))
    summary = os.path.join(logs, "versions", v, "out", "summary.json")
    per_kernel = []
    if os.path.exists(summary):
        for k in json.load(open(summary)).get("kernels", []):
            per_kernel.append(f'{k.get("abi")} {k.get("outcome")} {k.get("seconds", "?")} s')
    rows = [("see new (apt-cache madison, the state)", t_start - run_start if v == order[0] else 0)]
    rows.append(("derive (scripts/debian-fix)", t_derived - t_start if t_derived else None))
    rows.append(("ask the fleet, kernel-fetch --list", t_build - t_derived if t_build and t_derived else None))
    rows.append(("build, all kernels in one command: " + "; ".join(per_kernel), (t_built - t_build) if t_built and t_build else None))
    passed = [(t, e) for t, e in ev if "the QEMU smoke test passed" in e]
    for i, (t, e) in enumerate(tests):
        abi = re.search(r"testing (\S+)\.nrp", e)
        end = next((pt for pt, pe in passed if abi and pe.startswith(abi.group(1) + ":")), None)
        rows.append((f"VM smoke test {abi.group(1) if abi else e}", end - t if end else None))
    tests_end = max([t for t, _ in passed], default=t_built)
    rows.append(("publish (bundles, then the record)", t_pub - tests_end if t_pub and tests_end else None))
    rows.append(("rollout created", (t_roll - t_pub) if t_roll and t_pub else None))
    patched = None
    for fid in fix_ids:
        seen_exposed = False
        for t, f, n in exposure:
            if f != fid or t < (t_roll or 0): continue
            if n > 0: seen_exposed = True
            if n == 0 and seen_exposed:
                patched = max(patched or 0, t); break
    rows.append(("rollout to patched (GET /v1/fixes: 0 exposed)", (patched - t_roll) if patched and t_roll else None))
    print(f"Debian {v}: fix {' '.join(fix_ids) or '?'}")
    for name, s in rows:
        print(f"  {('-' if s is None else str(s)):>5} s  {name}")
    if patched:
        print(f"  {patched - t_start:>5} s  this version: its first step to the fleet patched")
        print(f"  {patched - run_start:>5} s  wall: the run's start to the fleet patched")
    print()
PY
