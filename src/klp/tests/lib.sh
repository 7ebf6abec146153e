# lib.sh: what the klp shell and VM tests share; source it with a work-folder prefix after
# setting klp and repo. On the shell test library (tests/lib/testlib.sh): fail, a work folder
# $work removed at exit. It sets the kernel's paths (NR_ABI, NR_HEADERS, NR_MODDIR, ... from
# scripts/kernel-fetch --dbg) and gives compile_unit and need_vm.
. "$repo/tests/lib/testlib.sh"
eval "$("$repo/scripts/kernel-fetch" --dbg --quiet)"
testlib_workdir "$1"

# compile_unit NAME: compiles $work/src/NAME.c (the "differ output": only the changed
# function) against the kernel's headers with its own compiler and the sections the differ
# works on; fails unless $work/src/NAME.o exists. modpost complains (no licence, undefined
# symbols) but the object is all we need.
compile_unit() {
  echo "obj-m := $1.o" > "$work/src/Kbuild"
  make -s -C "$NR_HEADERS" M="$work/src" CC=gcc-12 KCFLAGS="-ffunction-sections -fdata-sections" \
    KBUILD_MODPOST_WARN=1 modules >/dev/null 2>&1 || true
  [ -s "$work/src/$1.o" ] || fail "could not compile the patched $1.c"
}

# need_vm: sets $vmrun, the VM harness; skips the test (exit 77) when it is not there.
need_vm() {
  vmrun=${NOREBOOT_VM_RUN:-$repo/tests/vm/vm-run}
  [ -x "$vmrun" ] || { echo "SKIP: no VM harness at $vmrun"; exit 77; }
}
