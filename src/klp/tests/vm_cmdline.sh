#!/usr/bin/env bash
# End to end in the real kernel: a fix to fs/proc/cmdline.c's cmdline_proc_show, turned into
# a livepatch module by noreboot-klp, loaded in QEMU on Debian's own kernel, checked, disabled
# and unloaded.
#
#   vm_cmdline.sh NOREBOOT_KLP REPO_ROOT
#
# The patched function calls two static functions whose names the kernel has several times:
# `cpumask_weight` (16 identical copies; kernel/padata.c's is the 14th) and `enabled_show`
# (5 different functions; mm/huge_memory.c's, the 2nd, prints the transparent-hugepage mode,
# which the guest compares with /sys/kernel/mm/transparent_hugepage/enabled: a wrong sympos
# would call another file's enabled_show or fail to resolve). It also reads
# `saved_command_line`, which is not exported. All three must become .klp.sym relocations;
# seq_printf & co. stay ordinary relocations.
#
# The "differ output" is compiled here from C (only the changed function, references to the
# rest of cmdline.c as undefined symbols), the form docs/klp.md describes as our input.
# Exit 77 (skipped) when the VM harness is not in the tree yet.
set -euo pipefail
klp=$1 repo=$2
. "$(dirname "$0")/lib.sh" klp-vm-cmdline   # fail, $work, the kernel, compile_unit, need_vm
need_vm

mkdir "$work/src"
cat > "$work/src/cmdline.c" <<'C'
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/seq_file.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kobject.h>
/* Static functions of the unit: undefined references, LOCAL in the original. */
unsigned int nr_cpumask_weight(const struct cpumask *srcp) __asm__("cpumask_weight");
ssize_t nr_enabled_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf) __asm__("enabled_show");
static __used noinline int cmdline_proc_show(struct seq_file *m, void *v)
{
	unsigned long page = __get_free_page(GFP_KERNEL);

	if (page) {
		ssize_t n = nr_enabled_show(NULL, NULL, (char *)page);
		if (n > 0)
			((char *)page)[n - 1] = 0;
		seq_printf(m, "thp=%s ", (char *)page);
		free_page(page);
	}
	seq_printf(m, "noreboot-klp cpus=%u ", nr_cpumask_weight(cpu_online_mask));
	seq_puts(m, saved_command_line);
	seq_putc(m, '\n');
	return 0;
}
C
echo "compiling the patched unit against $NR_HEADERS"
compile_unit cmdline

# The copy of cpumask_weight from padata.c is not the first one: its sympos must be > 1.
res=$("$klp" resolve --abi "$NR_ABI" --local --file padata.c cpumask_weight)
echo "$res"
pos=$(echo "$res" | awk '{print $3}')
[ "$pos" -gt 1 ] || fail "expected a sympos > 1 for padata.c's cpumask_weight, got $pos"

res=$("$klp" resolve --abi "$NR_ABI" --local --file huge_memory.c enabled_show)
echo "$res"
pos2=$(echo "$res" | awk '{print $3}')
[ "$pos2" -gt 1 ] || fail "expected a sympos > 1 for huge_memory.c's enabled_show, got $pos2"

"$klp" module --abi "$NR_ABI" --name nr_klp_vm_cmdline -o "$work/nr_klp_vm_cmdline.ko" \
  --object "$work/src/cmdline.o" --func cmdline_proc_show --local cpumask_weight=padata.c \
  --local enabled_show=huge_memory.c
ko=$work/nr_klp_vm_cmdline.ko

# The module's format (see docs/klp.md).
readelf -SW "$ko" | grep -E '\.klp\.rela\.vmlinux\.\.text\.cmdline_proc_show +RELA .* AIo ' \
  || fail "no .klp.rela section with flags AIo"
readelf -sW "$ko" | grep >/dev/null "OS \[0xff20\] .klp.sym.vmlinux.cpumask_weight,$pos\$" || fail "no klp symbol for cpumask_weight,$pos"
readelf -sW "$ko" | grep >/dev/null "OS \[0xff20\] .klp.sym.vmlinux.enabled_show,$pos2\$" || fail "no klp symbol for enabled_show,$pos2"
readelf -sW "$ko" | grep >/dev/null 'OS \[0xff20\] .klp.sym.vmlinux.saved_command_line,0$' || fail "no klp symbol for saved_command_line"
readelf -sW "$ko" | grep >/dev/null 'klp.sym.vmlinux.seq_printf' && fail "seq_printf is exported and must stay a normal relocation"
readelf -rW "$ko" | grep -A3 "^Relocation section '.rela.text.cmdline_proc_show'" >/dev/null || fail "no ordinary relocations left"
modinfo -F livepatch "$ko" | grep -x >/dev/null Y || fail "modinfo livepatch is not Y"
modinfo -F vermagic "$ko" | grep >/dev/null "^$NR_ABI SMP preempt mod_unload modversions" || fail "wrong vermagic: $(modinfo -F vermagic "$ko")"
readelf -SW "$ko" | grep >/dev/null '__versions' || fail "no __versions section"

cat > "$work/guest.sh" <<'G'
#!/bin/sh
set -e
d=$(dirname "$0")
echo "before: $(cat /proc/cmdline)"
insmod "$d/nr_klp_vm_cmdline.ko"
for i in $(seq 1 40); do [ "$(cat /sys/kernel/livepatch/nr_klp_vm_cmdline/transition)" = 0 ] && break; sleep 0.25; done
echo "transition: $(cat /sys/kernel/livepatch/nr_klp_vm_cmdline/transition)"
echo "patched: $(cat /proc/cmdline)"
echo "funcs: $(ls /sys/kernel/livepatch/nr_klp_vm_cmdline/vmlinux/)"
echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
echo 0 > /sys/kernel/livepatch/nr_klp_vm_cmdline/enabled
for i in $(seq 1 40); do [ -e /sys/kernel/livepatch/nr_klp_vm_cmdline ] || break; sleep 0.25; done
echo "after: $(cat /proc/cmdline)"
rmmod nr_klp_vm_cmdline
echo "loaded after rmmod: $(grep -c '^nr_klp_vm_cmdline ' /proc/modules || true)"
G
chmod +x "$work/guest.sh"
out=$("$vmrun" --share "$work" --smp 2 --timeout 240 -- "$work/guest.sh")
echo "$out"
echo "$out" | grep >/dev/null '^before: console=' || fail "unexpected original /proc/cmdline"
echo "$out" | grep >/dev/null '^transition: 0$' || fail "the transition did not finish"
thp=$(echo "$out" | sed -n 's/^thp: //p')
[ -n "$thp" ] || fail "the guest has no transparent_hugepage/enabled"
echo "$out" | grep -F >/dev/null "patched: thp=$thp noreboot-klp cpus=2 console=" || fail "the patch's output is missing or wrong"
echo "$out" | grep >/dev/null '^funcs: cmdline_proc_show,1$' || fail "sysfs does not show the patched function"
echo "$out" | grep >/dev/null '^after: console=' || fail "/proc/cmdline did not come back after disabling"
echo "$out" | grep >/dev/null '^loaded after rmmod: 0$' || fail "the module is still loaded"
echo "PASS"
