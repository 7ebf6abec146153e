#!/usr/bin/env bash
# Optional module signing: a livepatch module built with --sign-key/--sign-cert carries a
# PKCS#7 signature by that key (checked with modinfo), appended after the .klp sections, and a
# bad key is refused without leaving a module behind.
#
#   sign.sh NOREBOOT_KLP REPO_ROOT
set -euo pipefail
klp=$1 repo=$2
. "$(dirname "$0")/lib.sh" klp-sign   # fail, $work, the kernel, compile_unit

openssl req -new -x509 -newkey rsa:2048 -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -nodes \
  -subj "/CN=noreboot klp test signer/" 2>/dev/null
mkdir "$work/src"
cat > "$work/src/cmdline.c" <<'C'
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/seq_file.h>
static __used noinline int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "signed %s\n", saved_command_line);
	return 0;
}
C
compile_unit cmdline
args=(--abi "$NR_ABI" --name nr_klp_signed --object "$work/src/cmdline.o" --func cmdline_proc_show)

"$klp" module "${args[@]}" -o "$work/signed.ko" --sign-key "$work/key.pem" --sign-cert "$work/cert.pem"
[ "$(modinfo -F signer "$work/signed.ko")" = "noreboot klp test signer" ] || fail "not signed by the test key"
[ "$(modinfo -F sig_hashalgo "$work/signed.ko")" = sha256 ] || fail "not a sha256 signature"
[ "$(tail -c 28 "$work/signed.ko")" = "~Module signature appended~" ] || fail "no signature trailer"
# The signed part is the finished module: the .klp sections are inside it.
readelf -SW "$work/signed.ko" | grep >/dev/null '\.klp\.rela\.vmlinux' || fail "no .klp.rela section in the signed module"

# A wrong key: refused, nothing left at the output path.
echo "not a key" > "$work/bad.pem"
if "$klp" module "${args[@]}" -o "$work/bad.ko" --sign-key "$work/bad.pem" --sign-cert "$work/cert.pem" 2>"$work/err"; then
  fail "a bad key was accepted"
fi
[ ! -e "$work/bad.ko" ] || fail "an unsigned module was left behind"
grep >/dev/null 'sign-file' "$work/err" || fail "the error does not name the signing step: $(cat "$work/err")"
echo PASS
