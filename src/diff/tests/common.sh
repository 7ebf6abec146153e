# Shared helpers of the differ's shell scenarios (mold style: one tiny scenario per file).
# A scenario writes $T/orig.c and $T/patched.c, builds them (build_plain: gcc with the kernel's
# code-generation flags; build_kmod: as an out-of-tree module object against the target
# kernel's real headers, so WARN_ON, static_branch, get_user ... produce the real special
# sections), runs the differ and asserts on its exit code, JSON and the output object.
#
# Environment (set by CMake): NR_DIFF_TOOL (the differ command; called as "$NR_DIFF_TOOL diff
# ORIG PATCHED --json -o OUT"), NR_SOURCE_DIR (the project, for scripts/kernel-fetch).
set -euo pipefail
: "${NR_DIFF_TOOL:?NR_DIFF_TOOL must name the differ binary}"
: "${NR_SOURCE_DIR:?NR_SOURCE_DIR must name the project source directory}"
CASE=$(basename "$0" .sh)
# On the shell test library: fail shows the differ's whole JSON and stderr; $T is removed at
# exit unless NR_KEEP is set (then it stays, for debugging).
. "$NR_SOURCE_DIR/tests/lib/testlib.sh"
if [ -n "${NR_KEEP:-}" ]; then
  T=$(mktemp -d "${TMPDIR:-/tmp}/nr-diff-$CASE.XXXXXX")
else
  testlib_workdir "nr-diff-$CASE"
  T=$work
fi
TESTLIB_LOGS=("$T/out.json" "$T/err") TESTLIB_LOG_LINES=100000

# Kernel code generation for objects that need no kernel headers.
PLAIN_CFLAGS="-O2 -ffunction-sections -fdata-sections -pg -mfentry -mrecord-mcount -fno-asynchronous-unwind-tables \
  -fno-pic -mcmodel=kernel -fno-jump-tables -fno-common"

build_plain() {
  local f
  for f in orig patched; do
    gcc-12 -c $PLAIN_CFLAGS ${EXTRA_CFLAGS:-} -o "$T/$f.o" "$T/$f.${SRC_EXT:-c}" 2>"$T/$f.log" ||
      { cat "$T/$f.log" >&2; fail "compiling $f.${SRC_EXT:-c}"; }
  done
}

# Both files are compiled at the same path (as the builder does), so __FILE__ and the
# dynamic-debug file names agree.
build_kmod() {
  eval "$("$NR_SOURCE_DIR/scripts/kernel-fetch" --quiet)"
  local f d="$T/kbuild"
  mkdir -p "$d"
  echo 'obj-m := m.o' > "$d/Kbuild"
  for f in orig patched; do
    cp "$T/$f.c" "$d/m.c"
    rm -f "$d/m.o"
    make -s -C "$NR_HEADERS" M="$d" CC=gcc-12 KCFLAGS="-ffunction-sections -fdata-sections" m.o \
      >"$d/$f.log" 2>&1 || { cat "$d/$f.log" >&2; fail "kernel-flags build of $f.c"; }
    cp "$d/m.o" "$T/$f.o"
  done
}

run_diff() {
  set +e
  "$NR_DIFF_TOOL" diff "$T/orig.o" "$T/patched.o" --json -o "$T/out.o" >"$T/out.json" 2>"$T/err"
  RC=$?
  set -e
}

expect_exit() {
  [ "$RC" = "$1" ] || fail "exit code $RC, expected $1"
}

# expect_json JQ_FILTER EXPECTED: compares compact JSON; arrays of names are compared sorted.
expect_json() {
  local got
  got=$(jq -c "$1 | if type == \"array\" and all(type == \"string\") then sort else . end" "$T/out.json") ||
    fail "bad JSON output"
  [ "$got" = "$2" ] || fail "$1 is $got, expected $2"
}

expect_refused() {  # SYMBOL REASON-SUBSTRING
  jq -e --arg s "$1" --arg r "$2" '.refused | any(.symbol == $s and (.reason | contains($r)))' "$T/out.json" \
    >/dev/null || fail "no refusal of $1 with reason containing '$2'"
  grep -q "refused: $1: " "$T/err" || fail "refusal of $1 not on stderr"
}

expect_section() { readelf -SW "$T/out.o" | grep -qE " $1 " || fail "output has no section $1"; }
expect_no_section() { ! readelf -SW "$T/out.o" | grep -qE " $1 " || fail "output has section $1"; }
# expect_symbol NAME NDX-PATTERN (UND or a number)
expect_symbol() {
  readelf -sW "$T/out.o" | awk -v n="$1" '$8 == n {print $7}' | grep -qE "^$2\$" ||
    fail "symbol $1 is not '$2' in the output: $(readelf -sW "$T/out.o" | awk -v n="$1" '$8 == n')"
}
expect_no_symbol() { ! readelf -sW "$T/out.o" | awk '{print $8}' | grep -qxF "$1" || fail "output has symbol $1"; }
section_size() {  # OBJECT SECTION -> size in bytes (empty if absent)
  local hex
  hex=$(readelf -SW "$1" | awk -v n="$2" '{for (i = 1; i <= NF; i++) if ($i == n) {print $(i + 4); exit}}')
  [ -z "$hex" ] || echo $((16#$hex))
}
# The output object must be well formed and link as a relocatable object.
expect_linkable() {
  readelf -aW "$T/out.o" >"$T/readelf.txt" 2>&1 || fail "readelf failed on the output"
  ! grep -qiE "warning|error" "$T/readelf.txt" || fail "readelf complains: $(grep -iE 'warning|error' "$T/readelf.txt" | head -3)"
  ld -r -o "$T/linked.o" "$T/out.o" 2>"$T/ld.err" || fail "ld -r failed: $(cat "$T/ld.err")"
}
# A scenario ends with a bare `pass`: it names the case. With words it is testlib's.
pass() { if [ $# -eq 0 ]; then echo "PASS [$CASE]"; else echo "ok: $*"; fi; }

# The clone scenarios (clone-*.sh): $T/orig.c holds a static noinline check_len(struct req *)
# that gcc turns into check_len.isra.0 taking r->len by value, and two callers, submit and
# resubmit. Each scenario derives patched.c from it with one change.
write_clone_orig() {
  cat > "$T/orig.c" <<'C'
struct req { int len; int flags; long cookie; };
extern void log_reject(int len);

static __attribute__((noinline)) int check_len(struct req *r)
{
	if (r->len <= 0) {
		log_reject(r->len);
		return 0;
	}
	return 1;
}

int submit(struct req *r) { return check_len(r) ? 0 : -22; }
int resubmit(struct req *r) { return check_len(r) ? 1 : -22; }
C
}
# expect_isra_clone NAME...: gcc made check_len.isra.0 in $T/NAME.o (else the scenario tests
# no clone at all).
expect_isra_clone() {
  local f
  for f in "$@"; do
    readelf -sW "$T/$f.o" | grep -q ' check_len.isra.0$' || fail "gcc made no check_len.isra.0 in $f: scenario needs a new trigger"
  done
}

# Lets orig.c/patched.c include "kpatch-macros.h" (noreboot's, src/builder/include) without a
# kernel: minimal stand-ins for the three kernel headers it includes.
use_kpatch_macros() {
  mkdir -p "$T/inc/linux"
  printf '#include <stddef.h>\n' > "$T/inc/linux/types.h"
  printf 'typedef unsigned gfp_t;\n' > "$T/inc/linux/gfp.h"
  printf 'struct klp_object;\nvoid *klp_shadow_alloc(void *, unsigned long, size_t, gfp_t, void *, void *);\nvoid *klp_shadow_get(void *, unsigned long);\nvoid klp_shadow_free(void *, unsigned long, void *);\n' \
    > "$T/inc/linux/livepatch.h"
  EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -I$T/inc -idirafter $NR_SOURCE_DIR/src/builder/include"
}
