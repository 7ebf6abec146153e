#!/usr/bin/env bash
# vm-run and build-module refuse bad input with a clear message and exit code (125 for
# vm-run, 2 for build-module usage, 1 for a module that does not build) before booting
# anything; a module that does not compile names the compiler's error.
. "$(dirname "$0")/lib.sh"
# refuse WANT_RC REGEX ARGS...: vm-run ARGS must exit WANT_RC and say REGEX on stderr
refuse() {
  local want=$1 re=$2 rc=0; shift 2
  "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$T/err" >&2; fail "'${*:1}' exited $rc, expected $want"; }
  grep -Eq -- "$re" "$T/err" || { cat "$T/err" >&2; fail "'${*:1}' did not say /$re/"; }
  [ ! -s "$T/out" ] || fail "'${*:1}' wrote to stdout"
  ok "refused: ${*:2} -> $(head -1 "$T/err")"
}
refuse 125 'no command given' "$VM_RUN"
refuse 125 "unknown option '--bogus'" "$VM_RUN" --bogus -- true
refuse 125 "--timeout 'soon' is not a positive number" "$VM_RUN" --timeout soon -- true
refuse 125 "--net '70000' is not a TCP port" "$VM_RUN" --net 70000 -- true
refuse 125 "--share '$T/missing' is not a folder" "$VM_RUN" --share "$T/missing" -- true
refuse 125 "--share / is not allowed" "$VM_RUN" --share / -- true
refuse 125 "--share-rw '/usr/share' is inside the host's /usr" "$VM_RUN" --share-rw /usr/share -- true
refuse 125 "--env '1X=y' is not K=V" "$VM_RUN" --env 1X=y -- true
refuse 125 "--smp '0' is not a vCPU count" "$VM_RUN" --smp 0 -- true
refuse 2 "is not a folder" "$BUILD_MODULE" "$T/missing"
mkdir -p "$T/empty" "$T/broken"
refuse 2 "has no Kbuild or Makefile" "$BUILD_MODULE" "$T/empty"
echo 'obj-m := broken.o' > "$T/broken/Kbuild"
printf '#include <linux/module.h>\nint broken(void) { return undeclared_thing; }\nMODULE_LICENSE("GPL");\n' > "$T/broken/broken.c"
refuse 1 "make failed for" "$BUILD_MODULE" "$T/broken" "$T/out-broken"
grep -q "undeclared_thing" "$T/err" || fail "build-module did not show the compiler's error"
ok "build-module shows the compiler's error"
[ ! -e "$T/out-broken/broken.ko" ] && [ ! -e "$T/broken/broken.o" ] || fail "build-module left files behind"
ok "a failed build leaves nothing in the source or output folder"
