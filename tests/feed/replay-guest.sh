#!/bin/sh
# A VM host of the November replay (runs inside the guest booted by scripts/noreboot-vm, see
# tests/feed/november-replay.sh): enrolls with the server, runs the real noreboot agent until
# the test says the fleet is patched (WORK/fleet.done), then reports what the host looks like,
# one fact per line, for the test to check:
#   boot_id_start ID / boot_id_end ID     the kernel's boot id when the host came up and at the end
#   uptime_end SECONDS                    the guest's uptime at the end (no reboot: it is one boot)
#   livepatch NAME enabled=E transition=T each patch under /sys/kernel/livepatch
#   status JSON                           `noreboot status --json`
#   replay-guest: done                    the last line when everything above was printed
#   replay-guest.sh WORK NOREBOOT_BINARY HOSTNAME
set -eu
work=$1; noreboot=$2; name=$3
cfg=/tmp/agent.toml                  # /etc is read-only in the guest; /tmp is a tmpfs
cp "$work/agent.toml" "$cfg"
nr() { "$noreboot" --config "$cfg" "$@"; }

echo "boot_id_start $(cat /proc/sys/kernel/random/boot_id)"
echo "kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime) s"
nr enroll --token "$(cat "$work/enroll.token")" --hostname "$name"
nr agent > /tmp/agent.log 2>&1 &
agent_pid=$!
# The test creates fleet.done once the server shows every host patched (or it gives up).
# 2400 half-seconds: longer than the test's own limits, so the test decides, not this loop.
i=0
while [ ! -e "$work/fleet.done" ] && [ $i -lt 2400 ]; do
  kill -0 "$agent_pid" 2>/dev/null || { echo "the agent exited early"; break; }
  sleep 0.5; i=$((i + 1))
done
for d in /sys/kernel/livepatch/*/; do
  [ -d "$d" ] || continue
  echo "livepatch $(basename "$d") enabled=$(cat "$d/enabled") transition=$(cat "$d/transition")"
done
echo "status $(nr status --json | tr -d '\n')"
echo "uptime_end $(cut -d' ' -f1 /proc/uptime)"
echo "boot_id_end $(cat /proc/sys/kernel/random/boot_id)"
kill "$agent_pid" 2>/dev/null || true
wait "$agent_pid" || true
sed 's/^/agent: /' /tmp/agent.log >&2
echo "replay-guest: done"
