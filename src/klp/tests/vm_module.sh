#!/usr/bin/env bash
# End to end for a function in a loadable module: fs/binfmt_misc.c's bm_status_read, patched
# while binfmt_misc is NOT loaded. The livepatch core must apply the module's .klp.rela
# section when binfmt_misc loads later, and the patched function reads `enabled`, a static
# variable of binfmt_misc (.klp.sym.binfmt_misc.enabled,0): writing 0 to the status file must
# show through the patched function, which proves the reference points at the module's
# variable.
#
#   vm_module.sh NOREBOOT_KLP REPO_ROOT        (exit 77: skipped, no VM harness yet)
set -euo pipefail
klp=$1 repo=$2
. "$(dirname "$0")/lib.sh" klp-vm-module   # fail, $work, the kernel, compile_unit, need_vm
need_vm

mkdir "$work/src"
cat > "$work/src/binfmt_misc.c" <<'C'
#include <linux/fs.h>
#include <linux/string.h>
/* `static int enabled` of binfmt_misc.c: an undefined reference, LOCAL in the original. */
extern int nr_enabled __asm__("enabled");
static __used noinline ssize_t bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	char *s = nr_enabled ? "noreboot-enabled\n" : "noreboot-disabled\n";

	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
}
C
compile_unit binfmt_misc

"$klp" module --abi "$NR_ABI" --name nr_klp_vm_module -o "$work/nr_klp_vm_module.ko" \
  --object "$work/src/binfmt_misc.o" --target binfmt_misc --func bm_status_read --local enabled
ko=$work/nr_klp_vm_module.ko
readelf -SW "$ko" | grep -E >/dev/null '\.klp\.rela\.binfmt_misc\.\.text\.bm_status_read +RELA .* AIo ' || fail "no .klp.rela.binfmt_misc section"
readelf -sW "$ko" | grep >/dev/null 'OS \[0xff20\] .klp.sym.binfmt_misc.enabled,0$' || fail "no klp symbol for enabled"
[ -z "$(modinfo -F depends "$ko")" ] || fail "the patch must not depend on binfmt_misc: $(modinfo -F depends "$ko")"
cp "$(find "$NR_MODDIR" -name binfmt_misc.ko)" "$work/"

cat > "$work/guest.sh" <<'G'
#!/bin/sh
set -e
d=$(dirname "$0")
insmod "$d/nr_klp_vm_module.ko"
for i in $(seq 1 40); do [ "$(cat /sys/kernel/livepatch/nr_klp_vm_module/transition)" = 0 ] && break; sleep 0.25; done
echo "objects: $(ls /sys/kernel/livepatch/nr_klp_vm_module/ | tr '\n' ' ')"
insmod "$d/binfmt_misc.ko"
mkdir -p /tmp/bm
mount -t binfmt_misc binfmt_misc /tmp/bm
for i in $(seq 1 40); do [ "$(cat /sys/kernel/livepatch/nr_klp_vm_module/transition)" = 0 ] && break; sleep 0.25; done
echo "patched: $(cat /tmp/bm/status)"
echo 0 > /tmp/bm/status
echo "patched after disabling binfmt: $(cat /tmp/bm/status)"
echo 1 > /tmp/bm/status
echo 0 > /sys/kernel/livepatch/nr_klp_vm_module/enabled
for i in $(seq 1 40); do [ -e /sys/kernel/livepatch/nr_klp_vm_module ] || break; sleep 0.25; done
echo "unpatched: $(cat /tmp/bm/status)"
rmmod nr_klp_vm_module
umount /tmp/bm
rmmod binfmt_misc
echo "modules left: $(grep -cE '^(nr_klp_vm_module|binfmt_misc) ' /proc/modules || true)"
G
chmod +x "$work/guest.sh"
out=$("$vmrun" --share "$work" --timeout 240 -- "$work/guest.sh")
echo "$out"
echo "$out" | grep >/dev/null '^objects: .*binfmt_misc' || fail "the patch does not list the binfmt_misc object"
echo "$out" | grep >/dev/null '^patched: noreboot-enabled$' || fail "the patched bm_status_read did not run after binfmt_misc loaded"
echo "$out" | grep >/dev/null '^patched after disabling binfmt: noreboot-disabled$' || fail "the patch does not see binfmt_misc's own 'enabled'"
echo "$out" | grep >/dev/null '^unpatched: enabled$' || fail "the original bm_status_read did not come back"
echo "$out" | grep >/dev/null '^modules left: 0$' || fail "modules still loaded"
echo PASS
