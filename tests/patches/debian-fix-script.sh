#!/usr/bin/env bash
# scripts/debian-fix on small linux-source packages made at test time (the real ones are tested
# by patches_vm_debian_fixes and patches_shipped_proof): the patch equals `diff -ruN` of the two
# fully unpacked trees byte for byte (changed, added and removed files, with the tarball's
# mtimes in the headers) and applies; more than --max-files files is exit 3, says why and still
# prints the changelog (its CVEs); a
# truncated package is a clear error and caches nothing; two equal versions are an error.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/tests/lib/testlib.sh"   # fail, the work folder removed at exit
testlib_workdir nr-debian-fix
T=$work
export NOREBOOT_CACHE=$T/cache
mkdir -p "$NOREBOOT_CACHE/debs"

# A linux-source-6.1 package of VERSION whose tree is the folder TREE (as Debian ships it: one
# tarball ./usr/src/linux-source-6.1.tar.xz holding linux-source-6.1/..., and a changelog).
make_deb() {
  local version=$1 tree=$2 pkg=$T/pkg-$1
  mkdir -p "$pkg/DEBIAN" "$pkg/usr/src" "$pkg/usr/share/doc/linux-source-6.1"
  printf 'Package: linux-source-6.1\nVersion: %s\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: test\n' \
    "$version" > "$pkg/DEBIAN/control"
  rm -rf "$T/linux-source-6.1" && cp -a "$tree" "$T/linux-source-6.1"
  tar -C "$T" -cJf "$pkg/usr/src/linux-source-6.1.tar.xz" linux-source-6.1
  printf 'linux (%s) bookworm-security; urgency=high\n\n  * test: fix a bug (CVE-2026-00001)\n\n -- T <t@example.org>  Thu, 26 Nov 2026 18:12:56 +0100\n' \
    "$version" | gzip -9n > "$pkg/usr/share/doc/linux-source-6.1/changelog.Debian.gz"
  dpkg-deb --root-owner-group -b "$pkg" "$NOREBOOT_CACHE/debs/linux-source-6.1_${version}_all.deb" >/dev/null
}

# Two trees: a few hundred files; FROM -> TO changes two, adds one, removes one.
mkdir -p "$T/from/fs/a" "$T/from/fs/b" "$T/from/kernel"
for i in $(seq 300); do printf 'int f%d(void) { return %d; }\n' "$i" "$i" > "$T/from/fs/a/f$i.c"; done
seq 1000 > "$T/from/kernel/big.c"
echo gone > "$T/from/fs/b/removed.c"
cp -a "$T/from" "$T/to"
sed -i 's/return 7;/return 8;/' "$T/to/fs/a/f7.c"
sed -i '500s/.*/five hundred/' "$T/to/kernel/big.c"
rm "$T/to/fs/b/removed.c"; echo new > "$T/to/fs/b/added.c"
make_deb 6.1.999-1 "$T/from"
make_deb 6.1.999-2 "$T/to"

# The reference: both trees unpacked in full from the packages, diffed whole.
for v in 6.1.999-1 6.1.999-2; do
  mkdir -p "$T/full/$v"
  dpkg-deb --fsys-tarfile "$NOREBOOT_CACHE/debs/linux-source-6.1_${v}_all.deb" |
    tar -xO ./usr/src/linux-source-6.1.tar.xz | tar -xJ --strip-components=1 -C "$T/full/$v"
done
(cd "$T/full" && diff -ruN 6.1.999-1 6.1.999-2 | sed -e "s#^--- 6.1.999-1/#--- a/#" -e "s#^+++ 6.1.999-2/#+++ b/#" \
   -e "s#^diff -ruN 6.1.999-1/\([^ ]*\) 6.1.999-2/.*#diff -ruN a/\1 b/\1#") > "$T/reference.patch" || true

"$repo/scripts/debian-fix" 6.1.999-1 6.1.999-2 -o "$T/fix.patch" 2> "$T/log" || { cat "$T/log"; fail "debian-fix failed"; }
cmp "$T/fix.patch" "$T/reference.patch" || { diff "$T/reference.patch" "$T/fix.patch" | head -20; fail "the patch differs from diff -ruN of the full trees"; }
[ "$(grep -c '^+++ ' "$T/fix.patch")" = 4 ] || fail "expected 4 files in the patch"
grep -q 'CVE-2026-00001' "$T/log" || fail "the new version's changelog was not printed"
cp -a "$T/full/6.1.999-1" "$T/apply"
(cd "$T/apply" && patch -p1 -s < "$T/fix.patch") || fail "the patch does not apply to the old tree"
diff -r "$T/apply" "$T/full/6.1.999-2" >/dev/null || fail "the old tree with the patch is not the new tree"
echo "ok: the patch equals diff -ruN of the full trees and turns the old tree into the new one"

# More than --max-files: exit 3, said why, nothing cached.
rm -f "$NOREBOOT_CACHE"/fixes/*
rc=0; "$repo/scripts/debian-fix" 6.1.999-1 6.1.999-2 --max-files 2 -o "$T/big.patch" 2> "$T/log" || rc=$?
[ "$rc" = 3 ] || { cat "$T/log"; fail "more than --max-files: exit $rc, expected 3"; }
grep -q 'more than 2 files.*stable release' "$T/log" || { cat "$T/log"; fail "exit 3 without the reason"; }
[ -z "$(ls "$NOREBOOT_CACHE/fixes")" ] || fail "a refused difference left a cached result"
grep -q 'CVE-2026-00001' "$T/log" || { cat "$T/log"; fail "exit 3 without the changelog (noreboot-feed reads the stable update's CVEs from it)"; }
echo "ok: more than --max-files is exit 3 with the reason and the changelog"

# A truncated package: a clear error naming the package, nothing cached.
deb=$NOREBOOT_CACHE/debs/linux-source-6.1_6.1.999-2_all.deb
head -c "$(( $(stat -c %s "$deb") / 2 ))" "$deb" > "$T/half" && mv "$T/half" "$deb"
rc=0; "$repo/scripts/debian-fix" 6.1.999-1 6.1.999-2 -o "$T/trunc.patch" 2> "$T/log" || rc=$?
[ "$rc" = 1 ] || { cat "$T/log"; fail "a truncated package: exit $rc, expected 1"; }
grep -q '6.1.999-2_all.deb' "$T/log" && grep -qi 'delete the .deb' "$T/log" || { cat "$T/log"; fail "the error does not name the package and what to do"; }
[ -z "$(ls "$NOREBOOT_CACHE/fixes")" ] || fail "a failed comparison left a cached result"
echo "ok: a truncated package is refused with what to do"

# Two equal versions: nothing to build.
make_deb 6.1.999-3 "$T/from"
rc=0; "$repo/scripts/debian-fix" 6.1.999-1 6.1.999-3 2> "$T/log" >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q 'same source' "$T/log" || { cat "$T/log"; fail "equal sources: exit $rc"; }
echo "ok: equal sources are an error"
echo PASS
