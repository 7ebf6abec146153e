#!/bin/sh
# Runs INSIDE the guest (tests/vm/vm-run) for debian-fixes.sh, one boot per kernel.
#   debian-fixes-guest.sh ext4-then-cumulative EXT4.ko EXT4_NAME CUM.ko CUM_NAME
#   debian-fixes-guest.sh nfsd NFSD.ko NFSD_NAME
#   debian-fixes-guest.sh ext4 EXT4.ko EXT4_NAME
# MODDIR (environment): the image's lib/modules/ABI, shared read-only; modprobe -d takes its root.
# Each step prints "ok ..." or "FAIL ...", and "PASS" at the end when all passed.
set -u
mode=$1; shift
failures=0
fail() { echo "FAIL $1"; dmesg | tail -n 12 | sed 's/^/  dmesg: /'; failures=$((failures + 1)); }
ok() { echo "ok $1"; }
wait_for() { i=0; while ! eval "$2"; do i=$((i + 1)); [ $i -gt $(($1 * 20)) ] && return 1; sleep 0.05; done; }
root=${MODDIR%/lib/modules/*}
abi=$(uname -r)
modprobe_() { modprobe -d "$root" -S "$abi" "$@"; }
loaded() { [ -d "/sys/module/$1" ]; }
lp() { echo "/sys/kernel/livepatch/$1"; }

# load KO NAME: finit_module through insmod, then the transition must finish.
# (wait_for evaluates its condition in its own scope: the condition names globals, never $1.)
load() {
  insmod "$1" || { fail "insmod $2: $(dmesg | tail -n 3 | tr '\n' ' ')"; return 1; }
  d=$(lp "$2")
  wait_for 60 '[ -e "$d/transition" ] && [ "$(cat "$d/transition")" = 0 ]' ||
    { fail "$2: transition did not finish in 60 s"; return 1; }
  ok "$2 loaded, transition finished"
}
# unload NAME: disable, wait for the reverse transition, rmmod.
unload() {
  d=$(lp "$1")
  echo 0 > "$d/enabled" || { fail "cannot disable $1"; return 1; }
  wait_for 60 '[ ! -e "$d" ]' || { fail "$1 still registered 60 s after disabling"; return 1; }
  rmmod "$1" || { fail "rmmod $1"; return 1; }
  ok "$1 disabled and removed"
}
# patched NAME OBJECT FUNCTION|any VALUE: the object's patched flag, and the function's folder.
patched() {
  v=$(cat "$(lp "$1")/$2/patched" 2>/dev/null)
  [ "$v" = "$4" ] || { fail "$1: $2/patched is '$v', expected $4"; return 1; }
  if [ "$3" = any ]; then f=$(ls -d "$(lp "$1")/$2/"*,* 2>/dev/null | head -1)
  else f=$(ls -d "$(lp "$1")/$2/$3,"* 2>/dev/null | head -1); fi
  [ -n "$f" ] || { fail "$1: no $2/$3,N function in sysfs"; return 1; }
  ok "$1: $2 patched=$4 (${f##*/})"
}

# Real filesystem I/O on ext4: a loop device, mkfs.ext4, writes, remount, reads, fsck.
ext4_io() {
  dd if=/dev/zero of=/tmp/fs.img bs=1M count=64 2>/dev/null
  loaded loop || modprobe_ loop || { fail "modprobe loop"; return 1; }
  dev=$(losetup -f --show /tmp/fs.img) || { fail "losetup"; return 1; }
  mkfs.ext4 -q -F "$dev" >/dev/null 2>&1 || { fail "mkfs.ext4 $dev"; losetup -d "$dev"; return 1; }
  mkdir -p /mnt/e
  mount -t ext4 "$dev" /mnt/e || { fail "mount ext4"; losetup -d "$dev"; return 1; }
  i=0
  while [ $i -lt 40 ]; do
    dd if=/dev/urandom of=/mnt/e/f$i bs=64k count=$((i % 7 + 1)) 2>/dev/null || { fail "write f$i"; break; }
    i=$((i + 1))
  done
  sync
  before=$(cat /mnt/e/f* | md5sum)
  rm /mnt/e/f3 /mnt/e/f5
  dd if=/dev/urandom of=/mnt/e/big bs=1M count=20 2>/dev/null || fail "write big"
  umount /mnt/e && mount -t ext4 "$dev" /mnt/e || { fail "remount"; losetup -d "$dev"; return 1; }
  after=$(cat /mnt/e/f* | md5sum)
  [ "$(ls /mnt/e | wc -l)" = 40 ] || fail "expected 40 files after the remount, found $(ls /mnt/e | wc -l)"
  cat /mnt/e/big > /dev/null || fail "read big"
  umount /mnt/e
  fsck.ext4 -n -f "$dev" >/dev/null 2>&1 || fail "fsck.ext4 found errors"
  losetup -d "$dev"
  [ "$before" != "$after" ] || true  # two files were removed: the sums differ; what counts is that it reads
  ok "ext4 I/O: mkfs, 41 writes, remount, reads, fsck clean"
}

case "$mode" in
  ext4-then-cumulative)
    ko1=$1 name1=$2 ko2=$3 name2=$4
    for m in ext4 nfsd sunrpc; do loaded $m && fail "$m is loaded before the patch (the test needs it not loaded)"; done
    load "$ko1" "$name1" || exit 1
    v=$(cat "$(lp "$name1")/ext4/patched"); [ "$v" = 0 ] || fail "$name1: ext4/patched is '$v' before ext4 loads"
    modprobe_ ext4 || fail "modprobe ext4"
    patched "$name1" ext4 any 1
    ext4_io
    # The cumulative patch (ext4 fix + nfsd fix) replaces the ext4-only one; sunrpc is not loaded.
    loaded sunrpc && fail "sunrpc is loaded before the cumulative patch"
    load "$ko2" "$name2" || exit 1
    d=$(lp "$name1")
    wait_for 30 '[ ! -e "$d" ]' || fail "$name1 still registered after $name2 replaced it"
    rmmod "$name1" || fail "rmmod $name1 (replaced)"
    patched "$name2" ext4 any 1
    v=$(cat "$(lp "$name2")/nfsd/patched"); [ "$v" = 0 ] || fail "$name2: nfsd/patched is '$v' before nfsd loads"
    modprobe_ nfsd || fail "modprobe nfsd"
    loaded sunrpc || fail "nfsd loaded without sunrpc?"
    patched "$name2" nfsd nfsd4_sequence 1
    ext4_io
    unload "$name2"
    ;;
  ext4)
    ko=$1 name=$2
    loaded ext4 && fail "ext4 is loaded before the patch (the test needs it not loaded)"
    load "$ko" "$name" || exit 1
    modprobe_ ext4 || fail "modprobe ext4"
    patched "$name" ext4 any 1
    ext4_io
    unload "$name"
    ;;
  nfsd)
    ko=$1 name=$2
    for m in nfsd sunrpc; do loaded $m && fail "$m is loaded before the patch (the test needs it not loaded)"; done
    load "$ko" "$name" || exit 1
    v=$(cat "$(lp "$name")/nfsd/patched"); [ "$v" = 0 ] || fail "$name: nfsd/patched is '$v' before nfsd loads"
    modprobe_ nfsd || fail "modprobe nfsd"
    patched "$name" nfsd nfsd4_sequence 1
    unload "$name"
    ;;
  *) echo "debian-fixes-guest: unknown mode $mode"; exit 2 ;;
esac
dmesg | grep -E 'WARNING:|BUG:|Oops|livepatch: .*(failed|error)' && fail "the kernel logged a warning, an oops or a livepatch error"
[ $failures -eq 0 ] && echo PASS
exit $failures
