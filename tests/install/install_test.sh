#!/usr/bin/env bash
# Installation test: noreboot's .deb packages installed with apt into a clean Debian 12 root.
#
# Problem: a package that builds can still be uninstallable (a missing or wrong Depends, a
# maintainer script that fails), put files where its units do not look, or ship a config that
# its own binary refuses. Only a clean system shows that. Approach: unpack a cached debootstrap
# minbase root (tests/install/debian-root) into a temp folder, `apt-get install ./noreboot-*.deb`
# in a chroot (dependencies come from the Debian archive), then check from outside and inside:
# every binary's --help, the files the units name, systemd-analyze verify on the units, the
# default configs parse, the server starts with its packaged config on 127.0.0.1:PORT, answers
# /healthz and stops on SIGTERM. Nothing is ever loaded into a kernel (no `noreboot apply`).
# Trade-off: a chroot is not a booted system, so the units are verified statically, not started
# by systemd; the VM tier is where a booted system lives.
#
#   tests/install/install_test.sh [DEB_DIR]   (default: run scripts/package, use out/)
#
# Needs root (chroot, mount). /proc is mounted inside the root only while commands run there,
# and always unmounted (trap). Exit 77 (skipped) when not root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${NOREBOOT_CACHE:-$HOME/.cache/noreboot}
t0=$(date +%s)
step_start=$t0
step() {  # prints how long the previous step took, then names the next one
  local now; now=$(date +%s)
  echo "install-test: [$((now - step_start)) s] $*"
  step_start=$now
}
. "$src/tests/lib/testlib.sh"   # fail, on_exit

[ "$(id -u)" -eq 0 ] || { echo "install-test: needs root (chroot); skipped"; exit 77; }

debs=${1:-}
if [ -z "$debs" ]; then
  step "building the packages (scripts/package)"
  "$src/scripts/package" --out "$src/out"
  debs=$src/out
fi
shopt -s nullglob
pkgs=("$debs"/noreboot-*.deb)
[ ${#pkgs[@]} -gt 0 ] || fail "no noreboot-*.deb in $debs (run scripts/package)"
has() { local m=("$debs"/"$1"_*.deb); [ ${#m[@]} -gt 0 ]; }  # nullglob is on

step "clean Debian 12 root"
tarball=$("$here/debian-root")
work=$(mktemp -d /tmp/noreboot-install.XXXXXX)
root=$work/root
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" || true; fi
  if mountpoint -q "$root/proc" 2>/dev/null; then umount -l "$root/proc" || true; fi
  mountpoint -q "$root/proc" 2>/dev/null || rm -rf --one-file-system "$work"
}
on_exit cleanup   # the work folder is removed only once /proc is unmounted: no testlib_workdir
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/tmp/debs"
cp "${pkgs[@]}" "$root/tmp/debs/"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# apt's downloads are kept between runs (under a lock) so a warm run does not fetch them again.
archives=$cache/install-test-apt-archives
mkdir -p "$archives"
exec 8>"$archives.lock"
flock 8
cp "$archives"/*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true

step "apt-get install ${pkgs[*]##*/}"
in_root apt-get -qq update
install_start=$(date +%s)
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      $(cd "$root/tmp/debs" && printf '/tmp/debs/%s ' *.deb) >"$work/apt.log" 2>&1; then
  tail -n 40 "$work/apt.log" >&2
  fail "apt-get install of the packages failed (above)"
fi
install_s=$(( $(date +%s) - install_start ))
grep -E '^(Get|Need to get|[0-9]+ upgraded)' "$work/apt.log" | tail -n 2 || true
cp -n "$root"/var/cache/apt/archives/*.deb "$archives/" 2>/dev/null || true
flock -u 8
for p in "${pkgs[@]}"; do
  name=$(dpkg-deb -f "$p" Package)
  status=$(in_root dpkg-query -W -f='${Status}' "$name")
  [ "$status" = "install ok installed" ] || fail "$name: dpkg says '$status'"
done
echo "install-test: installed in ${install_s} s"

step "--help of every installed command"
bins=()
for b in noreboot noreboot-server noreboot-admin noreboot-build noreboot-feed; do
  [ -x "$root/usr/bin/$b" ] && bins+=("$b")
done
[ ${#bins[@]} -eq ${#pkgs[@]} ] || fail "expected one binary per package, found ${bins[*]} for ${#pkgs[@]} packages"
for b in "${bins[@]}"; do
  out=$(in_root "$b" --help 2>&1) || fail "$b --help exited $?: $out"
  grep -qi 'usage' <<<"$out" || fail "$b --help printed no usage: $out"
  echo "  $b --help: ok ($(wc -l <<<"$out") lines)"
done
# Sub-command help: reported, not failed on (each part owns its CLI).
sub_missing=()
sub() {  # sub BINARY COMMAND...
  local b=$1; shift
  local o rc=0
  o=$(in_root "$b" "$@" --help 2>&1) || rc=$?
  if [ $rc -ne 0 ] || ! grep -qi 'usage' <<<"$o"; then sub_missing+=("$b $* --help (exit $rc)"); fi
}
if has noreboot-agent; then for c in status check apply revert enroll agent; do sub noreboot "$c"; done; fi
if has noreboot-admin; then
  for c in $(in_root noreboot-admin --help 2>&1 | awk '/^  [a-z][a-z-]+/ {print $1}' | sort -u); do sub noreboot-admin "$c"; done
fi
if [ ${#sub_missing[@]} -gt 0 ]; then
  echo "install-test: NOTE: sub-command --help that does not exit 0 with a usage:"
  printf '  %s\n' "${sub_missing[@]}"
fi

step "files where the units and the binaries expect them"
check_file() { [ -e "$root$1" ] || fail "missing $1"; }
for unit in "$root"/usr/lib/systemd/system/noreboot-*.service; do
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  [ -x "$root$exe" ] || fail "${unit##*/}: ExecStart $exe is not an executable in the package"
  echo "  ${unit##*/}: ExecStart $exe present"
done
if has noreboot-agent; then
  check_file /usr/lib/systemd/system/noreboot-agent.service
  check_file /etc/noreboot/agent.toml
  check_file /etc/noreboot/keys
  [ "$(stat -c %a "$root/var/lib/noreboot")" = 700 ] || fail "/var/lib/noreboot is not mode 0700"
  in_root dpkg-query -W -f='${Conffiles}\n' noreboot-agent | grep -q ' /etc/noreboot/agent.toml ' ||
    fail "/etc/noreboot/agent.toml is not a conffile of noreboot-agent"
fi
if has noreboot-server; then
  check_file /usr/lib/systemd/system/noreboot-server.service
  check_file /etc/noreboot/server.toml
  in_root getent passwd noreboot >/dev/null || fail "postinst made no 'noreboot' user"
  [ "$(in_root stat -c %U /var/lib/noreboot-server)" = noreboot ] || fail "/var/lib/noreboot-server is not owned by noreboot"
  in_root dpkg-query -W -f='${Conffiles}\n' noreboot-server | grep -q ' /etc/noreboot/server.toml ' ||
    fail "/etc/noreboot/server.toml is not a conffile of noreboot-server"
fi
if has noreboot-builder; then
  [ -x "$root/usr/lib/noreboot/kernel-fetch" ] || fail "/usr/lib/noreboot/kernel-fetch missing or not executable"
  # noreboot-build must find it next to itself (<bindir>/../lib/noreboot): ask it to prepare a
  # kernel whose name kernel-fetch rejects before any download; the refusal must come from there.
  rc=0; out=$(in_root noreboot-build prepare --kernel debian:no_such_abi 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "noreboot-build accepted a kernel that cannot exist: $out"
  grep -q "kernel-fetch: 'no_such_abi' is not a kernel ABI" <<<"$out" &&
    grep -q '/usr/lib/noreboot/kernel-fetch --abi no_such_abi' <<<"$out" ||
    fail "noreboot-build did not run /usr/lib/noreboot/kernel-fetch (exit $rc): $out"
  echo "  noreboot-build ran /usr/lib/noreboot/kernel-fetch, which refused: $(grep -m1 "kernel-fetch:" <<<"$out")"
fi

if has noreboot-feed; then
  check_file /usr/lib/systemd/system/noreboot-feed.service
  check_file /usr/lib/systemd/system/noreboot-feed.timer
  check_file /etc/noreboot/feed.toml
  in_root getent passwd noreboot-feed >/dev/null || fail "postinst made no 'noreboot-feed' user"
  for d in /var/lib/noreboot-feed /var/cache/noreboot-feed; do
    [ "$(in_root stat -c %U:%a "$d")" = noreboot-feed:750 ] || fail "$d: $(in_root stat -c %U:%a "$d"), want noreboot-feed:750"
  done
  [ "$(in_root stat -c %U:%G:%a /etc/noreboot/feed.toml)" = root:noreboot-feed:640 ] ||
    fail "/etc/noreboot/feed.toml: $(in_root stat -c %U:%G:%a /etc/noreboot/feed.toml), want root:noreboot-feed:640"
  in_root dpkg-query -W -f='${Conffiles}\n' noreboot-feed | grep -q ' /etc/noreboot/feed.toml ' ||
    fail "/etc/noreboot/feed.toml is not a conffile of noreboot-feed"
  grep -q '^Type=oneshot$' "$root/usr/lib/systemd/system/noreboot-feed.service" &&
    grep -q '^User=noreboot-feed$' "$root/usr/lib/systemd/system/noreboot-feed.service" &&
    grep -q '^ProtectSystem=strict$' "$root/usr/lib/systemd/system/noreboot-feed.service" ||
    fail "noreboot-feed.service is not a hardened oneshot service of its own user"
  # The packaged config parses and the feed runs as its user with it (status reads the empty state).
  rc=0; out=$(chroot --userspec=noreboot-feed:noreboot-feed "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    /usr/bin/noreboot-feed status --config /etc/noreboot/feed.toml 2>&1) || rc=$?
  [ $rc -eq 0 ] && grep -q "processed up to: - (never ran)" <<<"$out" ||
    fail "noreboot-feed status with the packaged config as noreboot-feed (exit $rc): $out"
  # noreboot-feed drives these programs: they must be where its defaults say.
  for p in /usr/bin/noreboot-build /usr/bin/noreboot-admin /usr/bin/noreboot-vm /usr/bin/noreboot-debian-fix \
           /usr/lib/noreboot/kernel-fetch /usr/bin/qemu-system-x86_64 /bin/busybox; do
    [ -x "$root$p" ] || fail "noreboot-feed needs $p (a Depends of noreboot-feed or noreboot-builder is missing)"
  done
  echo "  noreboot-feed: units, user, folders, conffile; status with the packaged config: ok"
fi

step "systemd-analyze verify on the installed units"
# The minbase root has no systemd, so the units are verified with the host's systemd: a copy
# whose ExecStart points into the root (verify checks that the command exists).
if command -v systemd-analyze >/dev/null && [ -e /lib/systemd/system/sysinit.target ]; then
  mkdir -p "$work/units"
  units=()
  for unit in "$root"/usr/lib/systemd/system/noreboot-*.service "$root"/usr/lib/systemd/system/noreboot-*.timer; do
    sed "s|^ExecStart=/|ExecStart=$root/|" "$unit" >"$work/units/${unit##*/}"
    units+=("$work/units/${unit##*/}")
  done
  if ! verify=$(systemd-analyze verify "${units[@]}" 2>&1); then
    echo "$verify" >&2; fail "systemd-analyze verify found problems in the units"
  fi
  [ -z "$verify" ] || { echo "$verify" >&2; fail "systemd-analyze verify warned about the units"; }
  echo "  ${#units[@]} unit(s) verified"
  for u in "${units[@]}"; do
    [ "${u%.service}" != "$u" ] || continue
    # Exposure score of the hardening (lower is better); informational.
    echo "  ${u##*/}: $(systemd-analyze security --offline=true "$u" 2>/dev/null | tail -n 1 || echo 'security: n/a')"
  done
else
  echo "  systemd-analyze (with systemd's units) not available on this host: skipped"
fi

if has noreboot-agent; then
  step "the agent's packaged config parses (noreboot status --config /etc/noreboot/agent.toml)"
  rc=0; out=$(in_root noreboot --config /etc/noreboot/agent.toml status 2>&1) || rc=$?
  # Exit 2 is the usage/config error; a chroot's kernel state may make status fail (1) otherwise.
  [ $rc -ne 2 ] || fail "the packaged agent.toml was refused: $out"
  echo "  status exit $rc: $(head -n 1 <<<"$out")"
  # The same check must tell a broken config apart, or it proves nothing.
  printf 'trusted_key = ["/etc/noreboot/keys"]\n' >"$root/tmp/bad-agent.toml"
  rc=0; out=$(in_root noreboot --config /tmp/bad-agent.toml status 2>&1) || rc=$?
  [ $rc -eq 2 ] && grep -q trusted_key <<<"$out" || fail "a config with a typo was not refused (exit $rc): $out"
fi

if has noreboot-server; then
  step "the server with its packaged config: start, /healthz, SIGTERM"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$root/tmp/server-data"
  chroot "$root" chown noreboot:noreboot /tmp/server-data
  chroot --userspec=noreboot:noreboot "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    /usr/bin/noreboot-server --config /etc/noreboot/server.toml --listen "127.0.0.1:$port" \
    --data /tmp/server-data >"$work/server.log" 2>&1 &
  server_pid=$!
  healthy=""
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then healthy=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$healthy" ] || { cat "$work/server.log" >&2; fail "the server did not answer /healthz on 127.0.0.1:$port"; }
  echo "  /healthz answered 200 on 127.0.0.1:$port (as user noreboot)"
  [ -s "$root/tmp/server-data/admin.token" ] || fail "the server wrote no admin.token in its data folder"
  kill -TERM "$server_pid"
  rc=0; for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$server_pid" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
  wait "$server_pid" || rc=$?
  server_pid=""
  [ $rc -eq 0 ] || { cat "$work/server.log" >&2; fail "the server exited $rc on SIGTERM"; }
  echo "  stopped on SIGTERM, exit 0"
fi

umount "$root/proc"
step "done"
echo "install-test: PASS in $(( $(date +%s) - t0 )) s (apt-get install ${install_s} s)"
