#!/usr/bin/env bash
# shell tier: --module-sign-key/--module-sign-cert append a PKCS#7 signature to the livepatch
# module with the kernel's sign-file (the module then ends with "~Module signature appended~"
# and carries the signer's name); a missing half of the pair is a usage error (exit 2).
# Usage: module-sign.sh NOREBOOT_BUILD
set -uo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/nr-sign.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config
openssl req -new -nodes -utf8 -sha256 -days 2 -batch -x509 -subj "/CN=noreboot test signer $$/" \
  -newkey rsa:2048 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || { echo "FAIL: openssl could not make a key"; exit 1; }
fails=0
rc=0
"$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/cmdline.patch" --module-sign-key "$T/key.pem" \
  -o "$T/x.nrp" > "$T/log0" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q 'go together' "$T/log0" && echo "ok: key without certificate is a usage error" ||
  { echo "FAIL: key without certificate gave exit $rc"; cat "$T/log0"; fails=$((fails + 1)); }
if "$build" --kernel "debian:${NOREBOOT_ABI:-current}" --patch "$here/cmdline.patch" --sequence 7 \
    --module-sign-key "$T/key.pem" --module-sign-cert "$T/cert.pem" -o "$T/s.nrp" --keep-work "$T/work" > "$T/log" 2>&1; then
  tar -xf "$T/s.nrp" -C "$T" nr_cmdline.ko
  if tail -c 28 "$T/nr_cmdline.ko" | grep -q '~Module signature appended~'; then echo "ok: the bundled module is signed"
  else echo "FAIL: no module signature at the end of nr_cmdline.ko"; fails=$((fails + 1)); fi
  grep -q 'noreboot test signer' "$T/nr_cmdline.ko" && echo "ok: the signature names the signer" ||
    { echo "FAIL: the signer's name is not in the signature"; fails=$((fails + 1)); }
  grep -q '^  sign ' "$T/log" || { echo "FAIL: no sign step in the timings"; fails=$((fails + 1)); }
else
  echo "FAIL: signed build failed"; cat "$T/log"; fails=$((fails + 1))
fi
[ $fails -eq 0 ] && echo PASS
exit $fails
