#!/usr/bin/env bash
# shell tier: the check against the shipped code (src/builder/shipped_check.h) refuses a livepatch
# compiled in the WRONG tree, end to end on Debian's real kernels, and accepts the right tree.
#
# The wrong tree is the prepared tree of the neighbouring ABI, given with --tree together with
# --kernel debian:ABI ("compile in this tree, target that kernel": image, symbols and modules
# from ABI's profile). That is exactly the bug that happened (a 6.1.0-56 build compiled in
# 6.1.192-3's source), and it needs no copy and no edit of any tree: the builder only reads the
# cached trees (Kbuild compiles an original into a tree with that tree's own release and lock,
# as its own builds do), so a killed run leaves every tree as valid as it was. A hand-edited
# copy of a tree would prove less (a change we made up) and cost gigabytes or risk the shared one.
#
# Which kernels, never named here: the two newest that the archive serves with everything a
# build needs (kernel-fetch --list; on 2 Dec 2026 6.1.0-56 and -57), OLD and NEW, and their
# difference, Debian's security fix X between the two versions (scripts/debian-fix; on 2 Dec
# nfsd4_sequence, CVE-2026-99362). So:
#   right: X built for OLD in OLD's own tree: accepted, each function X changes compared;
#   wrong: X for NEW compiled in OLD's tree (X applies there; OLD's original is not NEW's code),
#          and X reversed for OLD compiled in NEW's tree: both refused, naming X's function.
# The test fails if a refusal does not name that function (so it cannot pass on an unrelated
# refusal), if the right tree is refused, or if a cached tree changed its release. It also
# builds a fix of nfsd4_lm_put_owner for NEW, whose shipped code differs from our
# -ffunction-sections original by a shortened jump, and checks that the as-shipped compile
# accepts it.
# Usage: shipped-proof.sh NOREBOOT_BUILD
set -uo pipefail
. "$(dirname "$0")/lib.sh" "${1:-}" nr-proof   # build, $T, fail (counting: every check reports), finish
TESTLIB_KEEP_GOING=1

newest_kernels 2
read -r wrong wrong_v <<< "${kernels[0]}"   # OLD: the tree that is wrong for NEW
read -r right right_v <<< "${kernels[1]}"   # NEW
echo "kernels: $wrong ($wrong_v), $right ($right_v)"
"$repo/scripts/debian-fix" "$wrong_v" "$right_v" -o "$T/fix.patch" 2> "$T/debian-fix.log" ||
  { cat "$T/debian-fix.log"; fail "$wrong_v -> $right_v is not one small security fix"; exit 1; }

tree_of() {  # tree_of ABI: prepares (once, cached) and prints the tree
  local out rc=0
  out=$("$build" prepare --kernel "debian:$1" 2> "$T/prepare-$1.log") || rc=$?
  if [ $rc -ne 0 ]; then
    fail "prepare $1 (exit $rc)"; tail -20 "$T/prepare-$1.log" >&2; exit 1
  fi
  sed -n 's/^NR_TREE=//p' <<< "$out"
}
right_tree=$(tree_of "$right") || exit $?
wrong_tree=$(tree_of "$wrong") || exit $?
# The release a tree was prepared with (kernel.release keeps only "6.1.192" when make is given
# KERNELRELEASE=, as Debian's and our prepare do).
release_of() { sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h"; }
right_release=$(release_of "$right_tree") wrong_release=$(release_of "$wrong_tree")

# 1. The right tree: X for OLD in OLD's own tree is accepted, and each function X changes was
#    compared with the shipped code, not skipped.
rc=0
"$build" --kernel "debian:$wrong" --patch "$T/fix.patch" -o "$T/right.nrp" > "$T/right.log" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ -s "$T/right.nrp" ]; then echo "ok: the right tree ($wrong) builds Debian's fix"
else fail "the right tree ($wrong) gave exit $rc:"; tail -30 "$T/right.log"; fi
diffline=$(grep -m1 '^\[diff\] [^ ]*\.c ([^)]*):' "$T/right.log")
file=$(sed -E 's/^\[diff\] ([^ ]*) .*/\1/' <<< "$diffline")
func=$(sed -E 's/^[^:]*: *([^ +]*).*/\1/' <<< "$diffline")
[ -n "$func" ] || fail "no changed function in the right build's [diff] line: '$diffline'"
grep -q "^\[verify\] $file: $func equals [^ ]* " "$T/right.log" &&
  echo "ok: $func compiled in the right tree equals the shipped code" ||
  fail "no '[verify] $file: $func equals ...' line in the right build"
grep -q '^\[verify\] [1-9][0-9]* function(s) equal the shipped code .*; 0 refused$' "$T/right.log" ||
  fail "the right build's verify summary is missing or refused something"

# 2. The one legitimate difference -ffunction-sections makes: in nfsd.ko, nfsd4_lm_put_owner's
#    tail call to the static nfs4_put_stateowner is a short jmp (eb 94; same .text), ours a
#    jmp rel32 to another section. Its fix builds in the right tree: the original differs, the
#    unit compiled as Debian compiled it (no section flags) equals the shipped code.
cat > "$T/put-owner.patch" <<'EOF'
--- a/fs/nfsd/nfs4state.c
+++ b/fs/nfsd/nfs4state.c
@@ -7309,6 +7309,6 @@
 {
 	struct nfs4_lockowner *lo = (struct nfs4_lockowner *)owner;
 
-	if (lo)
+	if (lo && !WARN_ON_ONCE(atomic_read(&lo->lo_owner.so_count) == 0))
 		nfs4_put_stateowner(&lo->lo_owner);
 }
EOF
rc=0
"$build" --kernel "debian:$right" --patch "$T/put-owner.patch" -o "$T/put.nrp" > "$T/put.log" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q '^\[verify\] fs/nfsd/nfs4state.c: nfsd4_lm_put_owner equals nfsd.ko .* in the object compiled as the shipped kernel was' "$T/put.log" &&
  echo "ok: nfsd4_lm_put_owner (a relaxed tail call in nfsd.ko) is accepted through the as-shipped compile" ||
  { fail "nfsd4_lm_put_owner: exit $rc or no as-shipped comparison:"; grep -E '^(\[verify\]|refused|  what)' "$T/put.log"; }

# 3. The wrong tree, both ways round (the first is the bug that happened): refused (exit 3),
#    naming X's function and the reason, and nothing written.
check_refused() {  # check_refused TREE TARGET PATCH
  local rc=0 log=$T/wrong-$2.log
  "$build" --tree "$1" --kernel "debian:$2" --patch "$3" -o "$T/wrong-$2.nrp" > "$log" 2>&1 || rc=$?
  [ $rc -eq 3 ] || { fail "tree $1 for $2 gave exit $rc, not 3 (refused):"; tail -30 "$log"; return; }
  local want="^refused: $file: $func: the tree's source does not produce the running kernel's code"
  if grep -q "$want" "$log" && grep -q "what to do: check that the tree $1 is built from the exact linux-source of $2" "$log"
  then
    echo "ok: $2 with the tree of $(release_of "$1") refused: $(grep -o "$func in the original .*" "$log" | head -1)"
  else fail "tree $1 for $2: the refusal does not name $func:"; grep -A1 '^refused' "$log"; fi
  grep -q '^refused: ' "$log" && ! grep '^refused: ' "$log" | grep -qv "$func" ||
    fail "tree $1 for $2: a refusal other than $func's"
  [ ! -e "$T/wrong-$2.nrp" ] || fail "tree $1 for $2: a bundle was written despite the refusal"
  grep -q '^  verify ' "$log" || fail "tree $1 for $2: no verify step in the timings"
}
# X reversed (NEW's source back to OLD's), made from the two trees' copies of X's files.
for f in $(grep '^+++ b/' "$T/fix.patch" | sed -e 's#^+++ b/##' -e 's#\t.*##'); do
  diff -u --label "a/$f" --label "b/$f" "$right_tree/$f" "$wrong_tree/$f" >> "$T/reverse.patch"
done
check_refused "$wrong_tree" "$right" "$T/fix.patch"
check_refused "$right_tree" "$wrong" "$T/reverse.patch"

# 4. The shared trees were only read: each still has its own release and its done marker.
[ "$right_release" = "$right" ] && [ "$wrong_release" = "$wrong" ] &&
  [ "$(release_of "$right_tree")" = "$right" ] && [ "$(release_of "$wrong_tree")" = "$wrong" ] &&
  [ -e "$(dirname "$right_tree")/tree.done" ] && [ -e "$(dirname "$wrong_tree")/tree.done" ] &&
  echo "ok: both cached trees keep their own release" || fail "a cached tree's release changed"

finish
