#!/usr/bin/env bash
# vm tier, shares and host binaries: a host folder given with --share is readable at the
# same path in the guest and read-only there (a write fails, nothing appears on the host);
# a dynamically linked program compiled on the host at test time runs in the guest (the
# host's /usr is shared); the guest's /tmp and $NOREBOOT_SCRATCH are writable; a folder given
# with --share-rw takes the guest's writes back to the host; the guest has a host name, a
# fresh machine id and the host's CA certificates.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/share/sub"
secret=content-$RANDOM$RANDOM
echo "$secret" > "$T/share/sub/file.txt"
cat > "$T/hello.c" <<'C'
#include <stdio.h>
#include <sys/utsname.h>
int main(void) { struct utsname u; uname(&u); printf("hello from %s\n", u.release); return 0; }
C
cc -O1 -o "$T/share/hello" "$T/hello.c"
ldd "$T/share/hello" > "$T/ldd.txt"; grep -q libc.so "$T/ldd.txt" || fail "the test program is not dynamically linked"
mkdir -p "$T/rw"
echo "from-host" > "$T/rw/in.txt"
rc=0
vm "$T/out" "$T/err" --share "$T/share" --share-rw "$T/rw" -- sh -c '
  cat "$1/sub/file.txt"
  if echo x > "$1/new.txt" 2>/dev/null; then echo "write: succeeded"; else echo "write: failed"; fi
  if rm "$1/sub/file.txt" 2>/dev/null; then echo "rm: succeeded"; else echo "rm: failed"; fi
  "$1/hello"
  echo t > /tmp/t && echo s > "$NOREBOOT_SCRATCH/s" && echo "tmp: writable"
  pwd
  cat "$2/in.txt" && echo "rw-$(cat /proc/sys/kernel/random/boot_id)" > "$2/out.txt" && echo "rw: wrote"
  echo "hostname=$(hostname) machine-id=$(cat /etc/machine-id)"
  [ -s /etc/ssl/certs/ca-certificates.crt ] && echo "ca: present"' sh "$T/share" "$T/rw" || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest script"
expect_line "$T/out" "^$secret\$" "host file readable at the same path"
expect_line "$T/out" '^write: failed$' "writing into the share fails"
expect_line "$T/out" '^rm: failed$' "removing from the share fails"
[ ! -e "$T/share/new.txt" ] && [ -f "$T/share/sub/file.txt" ] || fail "the share changed on the host"
ok "the host folder is unchanged"
expect_line "$T/out" "^hello from $(current_abi)\$" "host-built dynamic binary runs in the guest"
expect_line "$T/out" '^tmp: writable$' "/tmp and NOREBOOT_SCRATCH are writable"
expect_line "$T/out" '^from-host$' "--share-rw folder readable"
expect_line "$T/out" '^rw: wrote$' "--share-rw folder writable"
grep -Eq '^rw-[0-9a-f-]{36}$' "$T/rw/out.txt" 2>/dev/null || fail "the guest's write did not reach the host folder"
ok "the guest's write reached the host"
expect_line "$T/out" '^hostname=noreboot-vm machine-id=[0-9a-f]{32}$' "host name and machine id set"
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  expect_line "$T/out" '^ca: present$' "the host's CA bundle is visible"
fi
