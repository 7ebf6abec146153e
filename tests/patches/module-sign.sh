#!/usr/bin/env bash
# shell tier: --module-sign-key/--module-sign-cert append a PKCS#7 signature to the livepatch
# module with the kernel's sign-file (the module then ends with "~Module signature appended~"
# and carries the signer's name); a missing half of the pair is a usage error (exit 2).
# Usage: module-sign.sh NOREBOOT_BUILD
set -uo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-sign   # build, $T, pass, fail (counting: every check reports), finish
TESTLIB_KEEP_GOING=1
openssl req -new -nodes -utf8 -sha256 -days 2 -batch -x509 -subj "/CN=noreboot test signer $$/" \
  -newkey rsa:2048 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || { fail "openssl could not make a key"; exit 1; }
rc=0
"$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/cmdline.patch" --module-sign-key "$T/key.pem" \
  -o "$T/x.nrp" > "$T/log0" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q 'go together' "$T/log0" && pass "key without certificate is a usage error" ||
  { fail "key without certificate gave exit $rc"; cat "$T/log0"; }
if "$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/cmdline.patch" --sequence 7 \
    --module-sign-key "$T/key.pem" --module-sign-cert "$T/cert.pem" -o "$T/s.nrp" --keep-work "$T/work" > "$T/log" 2>&1; then
  tar -xf "$T/s.nrp" -C "$T" nr_cmdline.ko
  if tail -c 28 "$T/nr_cmdline.ko" | grep -q '~Module signature appended~'; then pass "the bundled module is signed"
  else fail "no module signature at the end of nr_cmdline.ko"; fi
  grep -q 'noreboot test signer' "$T/nr_cmdline.ko" && pass "the signature names the signer" ||
    fail "the signer's name is not in the signature"
  grep -q '^  sign ' "$T/log" || fail "no sign step in the timings"
else
  fail "signed build failed"; cat "$T/log"
fi
finish
