// Static branches and static calls on a module's own keys, in a livepatch for that module.
//
// The problem. A fix to module code (ext4's fs/ext4/ioctl.c) often touches a function with a
// tracepoint. `trace_ext4_foo()` compiles to a static branch on `__tracepoint_ext4_foo.key`
// (a `__jump_table` entry) and, behind it, a static call `static_call(tp_func_ext4_foo)` (a
// `.static_call_sites` entry keyed by `__SCK__tp_func_ext4_foo`). Both keys live in ext4. In a
// livepatch, a relocation against a module's symbol can only be a `.klp.rela.ext4.*` entry,
// applied when ext4 is (or becomes) live. But the kernel reads the livepatch module's own
// `__jump_table` and `.static_call_sites` while loading the livepatch, in the module notifiers
// (jump_label_add_module, static_call_add_module, 6.1), before that: the key fields are still
// unrelocated (zero), so the jump-label code would take the entry itself for a key of the
// livepatch module and link it there (memory corruption), and the static-call code would patch
// the call site from a garbage key. klp-convert/kpatch refuse the same ("use static_key_enabled()
// instead"), and 6.1 has no way to apply a relocation for those entries later.
//
// What is sound, per kind of entry (Linux 6.1, x86-64):
//  - a `.static_call_sites` entry whose key is a module's symbol: the entry is dropped. The site
//    itself is `call __SCT__<name>`, a call of the static call's trampoline, and the trampoline
//    is always updated by static_call_update() (arch_static_call_transform patches the
//    trampoline, then the sites it knows). Without the entry the call goes through the
//    trampoline: the same target, one jump more. The call's own relocation (against the
//    trampoline, a module symbol) is ordinary code: a `.klp.rela.<module>..text.*` entry.
//  - a `__jump_table` entry on a tracepoint's key (`__tracepoint_<name>` + 8, struct
//    tracepoint.key, with branch bit 0: static_key_false): the entry is dropped and the
//    branch, a 2- or 5-byte NOP that objtool left in the "off" state, becomes an unconditional
//    jump to its "on" target. The code behind it is `__DO_TRACE`, which reads
//    `__tracepoint_<name>.funcs` and calls nothing when no probe is registered ("Both iterator
//    and static call handle NULL tp->funcs", kernel/tracepoint.c), which is what the running
//    kernel itself executes when a CPU sees the branch on while the key goes off. So the
//    patched function traces exactly when probes are registered, at the price of a load and a
//    compare per call. (`trace_<name>_enabled()` blocks become always-run: their code prepares
//    arguments for the tracepoint and must be correct to run whenever tracing may be on.)
//  - any other key of a module (a `DEFINE_STATIC_KEY_*` of the module): refused. Its branch can
//    be neither on nor off for good (either one is wrong when the key changes), and the code
//    cannot test the key at run time without being recompiled. The author's way out:
//    `static_key_enabled(&key)` (a plain load of key->enabled) in the fix, in place of
//    `static_branch_likely/unlikely(&key)`.
// Keys of vmlinux are untouched: `.klp.rela.vmlinux.*` is applied by the module loader before
// the notifiers run. New keys the fix defines are in the livepatch module itself: untouched.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "elf/object.h"

namespace noreboot::klp {

struct ModuleKeyReport {
  std::vector<std::string> static_calls_via_trampoline;  // key names of dropped .static_call_sites entries
  std::vector<std::string> tracepoints_always_checked;   // tracepoint names whose branches now always jump
  std::vector<std::string> refusals;                      // one line each: key, section, why, what to do
};

// Rewrites `obj` (a patch object for module `target`) as described above. `module_owned(name)`
// says whether an undefined symbol of `obj` will be resolved in a module (not vmlinux).
// An Error is for a malformed object (an entry without its relocations).
Result<ModuleKeyReport> neutralize_module_keys(elf::Object& obj, const std::string& target,
                                               const std::function<bool(const std::string&)>& module_owned);

}  // namespace noreboot::klp
