#!/usr/bin/env bash
# Shell test (ctest label "shell"): noreboot-admin keygen -> sign -> verify -> inspect round trip,
# then every bad bundle of issue 2 through `verify`: each must exit 3 with a message naming the
# problem, and no file may appear anywhere (bad archives are crafted at test time with python3's
# tarfile from the members of a good bundle).
#   usage: bundle_cli.sh PATH/TO/noreboot-admin
set -euo pipefail
ADMIN=$(realpath "$1")
. "$(dirname "$0")/../../../tests/lib/testlib.sh"   # fail, pass, finish, the work folder
TESTLIB_KEEP_GOING=1
testlib_workdir noreboot-admin-test
WORK=$work
cd "$WORK"
mkdir in out

# expect CODE MESSAGE-SUBSTRING -- CMD...: runs CMD, checks exit code and that stderr has MESSAGE.
expect() {
  local code=$1 msg=$2; shift 3
  local rc=0
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  if [[ $rc -ne $code ]]; then
    fail "$*: exit $rc, expected $code; stderr: $(cat "$WORK/stderr")"; return
  fi
  if [[ -n $msg ]] && ! grep -qF -- "$msg" "$WORK/stderr" "$WORK/stdout"; then
    fail "$*: message lacks '$msg'; got: $(cat "$WORK/stderr")"; return
  fi
  pass "$* -> exit $rc${msg:+, '$msg'}"
}

# Files under WORK newer than the reference (WORK/in); stdout/stderr captures excepted.
snapshot() { find "$WORK" -newer "$WORK/in" ! -path "$WORK/std*" ! -path "$WORK" -printf '%p\n' | sort; }

# --- A "module": a real ELF object with a .modinfo section, compiled now. ----------------------
cat >in/mod.c <<'C'
__attribute__((section(".modinfo"), used)) static const char vm[] =
    "vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions ";
__attribute__((section(".modinfo"), used)) static const char lic[] = "license=GPL";
int nr_test_fn(int x) { return x + 1; }
C
cc -c -o in/mod.ko in/mod.c

cat >in/manifest.json <<'J'
{
  "name": "nr_test",
  "sequence": 7,
  "kernel": {"release": "6.1.0-56-amd64", "version": "Linux version 6.1.0-56-amd64 (test) #1 SMP",
             "build_id": "00112233445566778899aabbccddeeff00112233", "arch": "x86_64"},
  "fixes": [{"id": "CVE-2024-0001", "description": "a test fix"}]
}
J

# --- keygen --------------------------------------------------------------------------------------
expect 0 "key id" -- "$ADMIN" keygen --comment "test publisher" keys-pub
expect 0 "" -- "$ADMIN" keygen keys-other
[[ $(stat -c %a keys-pub.key) == 600 ]] && pass "secret key mode 0600" || fail "secret key mode $(stat -c %a keys-pub.key)"
head -1 keys-pub.key | grep -qx noreboot-ed25519-secret-v1 && pass "secret key header" || fail "secret key header"
grep -q '^noreboot-ed25519-public-v1 [A-Za-z0-9+/=]\{44\} [0-9a-f]\{16\} test publisher$' keys-pub.pub \
  && pass "public key line" || fail "public key line: $(cat keys-pub.pub)"
before=$(sha256sum keys-pub.key keys-pub.pub)
expect 1 "already exists" -- "$ADMIN" keygen keys-pub
[[ $(sha256sum keys-pub.key keys-pub.pub) == "$before" ]] && pass "keygen did not overwrite" || fail "keygen overwrote a key"

# --- sign, verify, inspect -----------------------------------------------------------------------
expect 0 "signed by key" -- "$ADMIN" sign --key keys-pub.key --manifest in/manifest.json --module in/mod.ko -o good.nrp
[[ $(tar -tf good.nrp | tr '\n' ' ') == "manifest.json manifest.sig nr_test.ko " ]] \
  && pass "tar -tf lists the three members" || fail "tar -tf: $(tar -tf good.nrp)"
expect 0 "OK good.nrp: nr_test sequence 7, signed by key" -- "$ADMIN" verify --trust keys-pub.pub good.nrp
mkdir trusted && cp keys-pub.pub keys-other.pub trusted/
expect 0 "OK" -- "$ADMIN" verify --trust trusted good.nrp
expect 0 "vermagic: 6.1.0-56-amd64 SMP preempt" -- "$ADMIN" inspect good.nrp
"$ADMIN" inspect --json good.nrp >inspect.json
python3 - "$(sha256sum in/mod.ko | cut -d' ' -f1)" "$(stat -c %s in/mod.ko)" <<'PY' && pass "inspect --json" || fail "inspect --json"
import json, sys
j = json.load(open("inspect.json"))
m = j["manifest"]
assert m["name"] == "nr_test" and m["sequence"] == 7, m
assert m["module"]["sha256"] == sys.argv[1] == j["module"]["sha256"], j
assert m["module"]["size"] == int(sys.argv[2]) and j["module"]["matches_manifest"] is True
assert m["module"]["file"] == "nr_test.ko" and m["format_version"] == 1
assert m["fixes"] == [{"id": "CVE-2024-0001", "description": "a test fix"}]
assert len(j["signature"]["key_id"]) == 16
PY
# Re-sign with the other key: verifies with that key only, same manifest bytes.
expect 0 "signed by key" -- "$ADMIN" sign --key keys-other.key --bundle good.nrp -o resigned.nrp
expect 0 "OK" -- "$ADMIN" verify --trust keys-other.pub resigned.nrp
expect 3 "not trusted" -- "$ADMIN" verify --trust keys-pub.pub resigned.nrp
cmp <(tar -xOf good.nrp manifest.json) <(tar -xOf resigned.nrp manifest.json) \
  && pass "re-signing keeps the manifest bytes" || fail "re-signing changed the manifest"

# --- sign refusals write nothing -----------------------------------------------------------------
chmod 644 keys-other.key
expect 3 "chmod 600" -- "$ADMIN" sign --key keys-other.key --manifest in/manifest.json --module in/mod.ko -o out/x.nrp
chmod 600 keys-other.key
expect 2 "" -- "$ADMIN" sign --key keys-pub.pub --manifest in/manifest.json -o out/x.nrp
expect 3 "PUBLIC key" -- "$ADMIN" sign --key keys-pub.pub --manifest in/manifest.json --module in/mod.ko -o out/x.nrp
sed 's/"sequence": 7/"sequence": 7, "module": {"sha256": "00"}/' in/manifest.json >in/bad-sha.json
expect 3 "field 'module.sha256'" -- "$ADMIN" sign --key keys-pub.key --manifest in/bad-sha.json --module in/mod.ko -o out/x.nrp
sed 's/"name": "nr_test"/"name": "..\/evil"/' in/manifest.json >in/bad-name.json
expect 3 "field 'name'" -- "$ADMIN" sign --key keys-pub.key --manifest in/bad-name.json --module in/mod.ko -o out/x.nrp
[[ -z $(ls -A out) ]] && pass "failed signs wrote nothing" || fail "failed signs left: $(ls -A out)"

# --- bad bundles ---------------------------------------------------------------------------------
# craft NAME SPEC: writes NAME.nrp from good.nrp's members, edited by the python SPEC, which sees
# `m` (dict name -> bytes, in order) and may add `extra` (list of TarInfo, data) entries.
craft() {
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
out, spec = sys.argv[1], sys.argv[2]
src = tarfile.open("good.nrp")
m = {i.name: src.extractfile(i).read() for i in src.getmembers()}
extra = []
def info(name, type=tarfile.REGTYPE, size=0, link=""):
    t = tarfile.TarInfo(name); t.type = type; t.size = size; t.linkname = link
    return t
exec(spec)
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    for name, data in m.items():
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    for ti, data in extra:
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
PY
}

craft tampered.nrp 'm["manifest.json"] = m["manifest.json"].replace(b"\"sequence\": 7", b"\"sequence\": 8")'
craft modhash.nrp 'b = bytearray(m["nr_test.ko"]); b[-1] ^= 1; m["nr_test.ko"] = bytes(b)'
craft dotdot.nrp 'extra.append((info("../escaped.txt", size=3), b"bad"))'
craft absolute.nrp 'extra.append((info("/tmp/noreboot-absolute-escape.txt", size=3), b"bad"))'
craft symlink.nrp 'extra.append((info("link.ko", tarfile.SYMTYPE, link="/etc/passwd"), None))'
craft hardlink.nrp 'extra.append((info("hard.txt", tarfile.LNKTYPE, link="manifest.json"), None))'
craft directory.nrp 'extra.append((info("dir", tarfile.DIRTYPE), None))'
craft bigmanifest.nrp 'm["manifest.json"] = m["manifest.json"][:-2] + b" " * (1 << 20) + b"}\n"'
craft bigsig.nrp 'm["manifest.sig"] = m["manifest.sig"] * 64'
craft nosig.nrp 'del m["manifest.sig"]'
craft nomodule.nrp 'del m["nr_test.ko"]'
craft unknown.nrp 'm["README"] = b"hello"'
craft duplicate.nrp 'extra.append((info("manifest.json", size=2), b"{}"))'
craft othermodule.nrp 'm["evil.ko"] = m.pop("nr_test.ko")'
head -c 3000 good.nrp >truncated.nrp
head -c 1000 good.nrp >truncated-header.nrp
cp good.nrp badsum.nrp && printf 'X' | dd of=badsum.nrp bs=1 seek=10 conv=notrunc status=none
: >empty.nrp
# A module over the 64 MiB limit (sparse input, so this stays cheap).
truncate -s 65M in/huge.ko
python3 - <<'PY'
import tarfile
with tarfile.open("hugemodule.nrp", "w", format=tarfile.USTAR_FORMAT) as t:
    src = tarfile.open("good.nrp")
    for i in src.getmembers()[:2]:
        t.addfile(i, src.extractfile(i))
    t.add("in/huge.ko", arcname="nr_test.ko")
PY
rm in/huge.ko

touch "$WORK/in"  # snapshot reference time: nothing may appear after this
sleep 1
V=("$ADMIN" verify --trust keys-pub.pub)
expect 3 "does not match manifest.json" -- "${V[@]}" tampered.nrp
expect 3 "has SHA-256" -- "${V[@]}" modhash.nrp
expect 3 "not trusted" -- "$ADMIN" verify --trust keys-other.pub good.nrp
expect 3 "truncated" -- "${V[@]}" truncated.nrp
expect 3 "truncated" -- "${V[@]}" truncated-header.nrp
expect 3 "checksum mismatch" -- "${V[@]}" badsum.nrp
expect 3 "empty" -- "${V[@]}" empty.nrp
expect 3 "member '../escaped.txt' has a '..' component" -- "${V[@]}" dotdot.nrp
expect 3 "member '/tmp/noreboot-absolute-escape.txt' has an absolute path" -- "${V[@]}" absolute.nrp
expect 3 "member 'link.ko' is a symbolic link" -- "${V[@]}" symlink.nrp
expect 3 "member 'hard.txt' is a hard link" -- "${V[@]}" hardlink.nrp
expect 3 "is a directory" -- "${V[@]}" directory.nrp
expect 3 "member 'manifest.json' is 1049" -- "${V[@]}" bigmanifest.nrp
expect 3 "member 'manifest.sig' is" -- "${V[@]}" bigsig.nrp
expect 3 "member 'nr_test.ko' is 68157440 bytes, more than the limit of 67108864" -- "${V[@]}" hugemodule.nrp
expect 3 "member 'manifest.sig' is missing" -- "${V[@]}" nosig.nrp
expect 3 "module member (<name>.ko) is missing" -- "${V[@]}" nomodule.nrp
expect 3 "unknown member 'README'" -- "${V[@]}" unknown.nrp
expect 3 "member 'manifest.json' appears twice" -- "${V[@]}" duplicate.nrp
expect 3 "names module 'nr_test.ko' but the bundle holds 'evil.ko'" -- "${V[@]}" othermodule.nrp
expect 2 "no trusted keys" -- "$ADMIN" verify good.nrp
expect 1 "cannot open" -- "${V[@]}" missing.nrp
# inspect refuses the same structural problems.
expect 3 "symbolic link" -- "$ADMIN" inspect symlink.nrp
expect 3 "'..' component" -- "$ADMIN" inspect dotdot.nrp

# Nothing was written by any of the above: no escaped files, no new files anywhere we can see.
[[ ! -e "$WORK/../escaped.txt" && ! -e /tmp/escaped.txt && ! -e /tmp/noreboot-absolute-escape.txt && ! -e "$WORK/link.ko" ]] \
  && pass "no member escaped" || fail "a member was written outside"
new=$(snapshot)
[[ -z $new ]] && pass "verify and inspect wrote no files" || fail "files appeared: $new"

# --- usage ---------------------------------------------------------------------------------------
expect 0 "usage: noreboot-admin verify" -- "$ADMIN" verify --help
expect 2 "unknown command" -- "$ADMIN" frobnicate
expect 2 "unknown option '--bogus'" -- "$ADMIN" verify --bogus x

finish
