#!/usr/bin/env bash
# The direct link (Kbuild's recorded commands replayed without make) must give the same
# bytes as Kbuild itself: build one livepatch module both ways in the same folder and compare.
#
#   direct_link.sh NOREBOOT_KLP REPO_ROOT
set -euo pipefail
klp=$1 repo=$2
. "$(dirname "$0")/lib.sh" klp-direct   # fail, $work, the kernel, compile_unit

mkdir "$work/src"
cat > "$work/src/cmdline.c" <<'C'
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/seq_file.h>
static __used noinline int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "direct-link %s\n", saved_command_line);
	return 0;
}
C
compile_unit cmdline

args=(--abi "$NR_ABI" --name nr_klp_direct --workdir "$work/w" --object "$work/src/cmdline.o" --func cmdline_proc_show)
"$klp" module "${args[@]}" -o "$work/kbuild.ko" --kbuild | tee "$work/kbuild.log"
"$klp" module "${args[@]}" -o "$work/direct.ko" | tee "$work/direct.log"
grep -E >/dev/null ', link [0-9.]+ s' "$work/direct.log" || fail "the default build did not use the direct link"
grep -E >/dev/null ', kbuild [0-9.]+ s' "$work/kbuild.log" || fail "--kbuild did not run Kbuild"
cmp "$work/kbuild.ko" "$work/direct.ko" || fail "the direct link differs from Kbuild's"
modinfo -F vermagic "$work/direct.ko" | grep >/dev/null "^$NR_ABI " || fail "wrong vermagic"
echo "PASS: $(stat -c %s "$work/direct.ko") bytes, identical"
