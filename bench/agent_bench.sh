#!/usr/bin/env bash
# Agent benchmark: the agent's own work from "bundle bytes in memory" to the finit_module call
# (prep_ms, measured inside apply_bundle), and the daemon's idle memory and CPU.
#
#   bench/agent_bench.sh NOREBOOT NOREBOOT_ADMIN KO1 KO2 [RUNS]
#
# KO1/KO2: two livepatch modules with different names (e.g. nr_agent_fix1.ko and
# nr_agent_fix2.ko from src/agent/tests/modules/fix built with tests/vm/build-module); they are
# applied alternately with rising sequences on the fake kernel (--root), so the numbers are
# the agent's work on this machine's disk (fsync included), not the kernel's.
# Idle: `noreboot agent` enrolled against a closed port backs off and sleeps; VmRSS and CPU
# ticks are read from /proc over 10 s.
set -euo pipefail
NB=$1 ADMIN=$2 KO1=$3 KO2=$4 RUNS=${5:-20}
export NOREBOOT_FORBID_REAL_KERNEL=1
T=$(mktemp -d "${TMPDIR:-/tmp}/agent-bench.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
R=$T/root
python3 - "$R" <<'PY'
import os, struct, sys
r = sys.argv[1]
def put(p, data, mode="w"):
    os.makedirs(os.path.dirname(os.path.join(r, p)), exist_ok=True)
    open(os.path.join(r, p), mode).write(data)
for d in ["sys/kernel/livepatch", "sys/module", "fake"]:
    os.makedirs(os.path.join(r, d), exist_ok=True)
put("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n")
put("proc/version", "Linux version 6.1.0-56-amd64 (bench) #1 SMP\n")
put("proc/sys/kernel/arch", "x86_64\n")
put("proc/sys/kernel/random/boot_id", "bench-boot\n")
put("dev/kmsg", "")
desc = bytes.fromhex("0123456789abcdef0123456789abcdef01234567")
put("sys/kernel/notes", struct.pack("<III", 4, len(desc), 3) + b"GNU\0" + desc, "wb")
PY
"$ADMIN" keygen "$T/pub" > /dev/null
for i in $(seq 1 "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then ko=$KO1; else ko=$KO2; fi
  name=$(basename "$ko" .ko)
  printf '{"name":"%s","sequence":%d,"kernel":{"release":"6.1.0-56-amd64","version":"Linux version 6.1.0-56-amd64 (bench) #1 SMP","build_id":"0123456789abcdef0123456789abcdef01234567","arch":"x86_64"},"fixes":[]}\n' "$name" "$i" > "$T/m$i.json"
  "$ADMIN" sign --key "$T/pub.key" --manifest "$T/m$i.json" --module "$ko" -o "$T/b$i.nrp" > /dev/null
done
for i in $(seq 1 "$RUNS"); do
  "$NB" --root "$R" apply --trust "$T/pub.pub" --json "$T/b$i.nrp" 2>/dev/null
done | python3 -c '
import json, sys, statistics
p = [json.loads(l)["prep_ms"] for l in sys.stdin if l.strip()]
p.sort()
print("apply prep_ms (bundle in memory -> finit_module), %d runs: median %.1f, p90 %.1f, min %.1f, max %.1f"
      % (len(p), statistics.median(p), p[int(len(p) * 0.9) - 1], p[0], p[-1]))'

mkdir -p "$R/var/lib/noreboot"
printf '{"server":"http://127.0.0.1:9","host_id":"h_bench","credential":"nrh_bench","group":"","enrolled_at":0}\n' \
  > "$R/var/lib/noreboot/credential.json"
"$NB" --root "$R" agent > "$T/agent.log" 2>&1 &
pid=$!
sleep 3
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "idle daemon: VmRSS ${rss} kB; CPU $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) ms over 10 s (backing off against a closed port)"
kill -TERM "$pid"; wait "$pid" || true; pid=""
[ -f "$R/var/lib/noreboot/clean-shutdown" ] && echo "SIGTERM: clean-shutdown marker written"
