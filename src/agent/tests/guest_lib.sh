# Sourced INSIDE the guest by vm_agent_guest.sh and vm_reboot_guest.sh, after they set W (a
# scratch folder) and define nb() (noreboot with their config and state folder).
#   fail MSG...         prints FAIL with the agent's last output, its daemon log if any and the
#                       kernel log tail, and exits 1
#   run WANT_RC ARGS... runs noreboot, output in $W/out and $W/err, asserts the exit code
#   json EXPR           evaluates a Python expression over d, the JSON in $W/out
fail() {
  echo "FAIL: $*"
  for f in "$W"/out "$W"/err "$W"/daemon.log; do [ -s "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done
  dmesg | tail -n 20 | sed 's/^/  dmesg: /'
  exit 1
}
run() {
  want=$1; shift
  rc=0
  nb "$@" > "$W/out" 2> "$W/err" || rc=$?
  [ "$rc" = "$want" ] || fail "noreboot $*: exit $rc, expected $want"
}
json() { python3 -c "import json,sys; d=json.load(open('$W/out')); print($1)"; }
