#!/bin/sh
# The demo's VM host (runs inside the guest booted by tests/vm/vm-run, see scripts/demo):
# enrolls with the server, shows /proc/cmdline, runs the noreboot agent until the patch the
# server offers is live, shows /proc/cmdline again and the agent's own status.
#   demo-guest.sh WORK NOREBOOT_BINARY PATCH_NAME
set -eu
work=$1; noreboot=$2; patch=$3
cfg=/tmp/agent.toml                 # /etc is read-only in the guest; /tmp is a tmpfs
cp "$work/agent.toml" "$cfg"
nr() { "$noreboot" --config "$cfg" "$@"; }

echo "kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "before: /proc/cmdline = $(cat /proc/cmdline)"
nr enroll --token "$(cat "$work/enroll.token")"

nr agent > /tmp/agent.log 2>&1 &
agent_pid=$!
live=0
for _ in $(seq 600); do
  if [ -e "/sys/kernel/livepatch/$patch/transition" ] &&
     [ "$(cat "/sys/kernel/livepatch/$patch/transition")" = 0 ] &&
     nr status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["applied"] else 1)'; then
    live=1; break
  fi
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$live" = 1 ]; then
  echo "the patch is live, no reboot: uptime $(cut -d' ' -f1 /proc/uptime) s"
  echo "after:  /proc/cmdline = $(cat /proc/cmdline)"
  nr status
fi
# Keep the agent running until it has reported to the server: scripts/demo creates
# WORK/demo.done once the server shows this host as patched (or gives up), then the agent is
# stopped cleanly (SIGTERM). The agent reports after watching the kernel log for a few seconds.
for _ in $(seq 240); do
  [ -e "$work/demo.done" ] && break
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.5
done
kill "$agent_pid" 2>/dev/null || true
wait "$agent_pid" || true
# The agent's own log goes to stderr: scripts/demo keeps it in its work folder (vm.err).
sed 's/^/agent: /' /tmp/agent.log >&2
[ "$live" = 1 ] || { echo "the patch did not become live; the agent's log:"; cat /tmp/agent.log; exit 1; }
