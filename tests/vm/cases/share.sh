#!/usr/bin/env bash
# vm tier, shares and host binaries: a host folder given with --share is readable at the
# same path in the guest and read-only there (a write fails, nothing appears on the host);
# a dynamically linked program compiled on the host at test time runs in the guest (the
# host's /usr is shared); the guest's /tmp and $NOREBOOT_SCRATCH are writable.
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
ldd "$T/share/hello" | grep -q libc.so || fail "the test program is not dynamically linked"
rc=0
vm "$T/out" "$T/err" --share "$T/share" -- sh -c '
  cat "$1/sub/file.txt"
  if echo x > "$1/new.txt" 2>/dev/null; then echo "write: succeeded"; else echo "write: failed"; fi
  if rm "$1/sub/file.txt" 2>/dev/null; then echo "rm: succeeded"; else echo "rm: failed"; fi
  "$1/hello"
  echo t > /tmp/t && echo s > "$NOREBOOT_SCRATCH/s" && echo "tmp: writable"
  pwd' sh "$T/share" || rc=$?
cat "$T/out"
expect_rc 0 "$rc" "guest script"
expect_line "$T/out" "^$secret\$" "host file readable at the same path"
expect_line "$T/out" '^write: failed$' "writing into the share fails"
expect_line "$T/out" '^rm: failed$' "removing from the share fails"
[ ! -e "$T/share/new.txt" ] && [ -f "$T/share/sub/file.txt" ] || fail "the share changed on the host"
ok "the host folder is unchanged"
expect_line "$T/out" "^hello from $(current_abi)\$" "host-built dynamic binary runs in the guest"
expect_line "$T/out" '^tmp: writable$' "/tmp and NOREBOOT_SCRATCH are writable"
