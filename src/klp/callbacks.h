// Livepatch callbacks declared by a fix: found in the patch objects, wired into klp_object.
//
// Problem: a fix often has to do something when it goes live, not only replace code: repair
// state the old code left behind (a post-patch callback), refuse to patch while the system is
// in a state the new code cannot take over (pre-patch, which may fail), undo it before the old
// code comes back (pre/post-unpatch); and a fix to a module must do it when that module loads,
// possibly long after the patch. The kernel's livepatch core has exactly this: `struct
// klp_callbacks` per klp_object (Documentation/livepatch/callbacks.rst). The author must be
// able to declare them in the fix itself, in C, without writing the klp_patch tables.
//
// Approach: the author includes <noreboot/livepatch.h> (src/builder/include, on the patched
// copy's include path) and writes NOREBOOT_POST_PATCH_CALLBACK(object, fn). The macro defines
// a small file-static function (kept by the `used` attribute) with a name that says it all,
// `__noreboot_cb_<kind>__<object>` (`__noreboot_cb_post_patch__vmlinux`,
// `__noreboot_cb_pre_patch__binfmt_misc`; object `this_object` is the unit's own target, as
// kpatch's macros mean it), which calls fn. It is a new function of the patched unit, so the
// differ carries it (and fn, if not inlined) into the patch object like any new function,
// with its relocations; no special section or differ change is needed. find_callbacks() reads
// those names from each patch object's symbol table; build_livepatch_module gives each a
// GLOBAL alias `__noreboot_cbref_<obj>_<n>` (file-static names may repeat across units), and
// the generated stub (module_gen.h) declares the aliases and puts them into
// the klp_object of that object's `.callbacks`, adding a klp_object with an empty function
// list when the fix replaces no function of that object (the kernel allows it: the callbacks
// then run when the object is patched, e.g. when the module loads).
// Rules (each breach refused with the symbol and what to do):
//  - one callback of a kind per object in the whole patch (the kernel has one slot);
//  - a callback runs while its object is live, and its code's livepatch relocations are
//    applied when the object it was compiled in (the unit's target) is; so a callback for
//    object X must be declared in a unit of X, or in a vmlinux unit (always live).
// Trade-off: the object is a C identifier in the symbol name, so module names are spelt as the
// kernel spells them (binfmt_misc, not binfmt-misc), which is also what klp_object.name wants.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "elf/object.h"

namespace noreboot::klp {

enum class CallbackKind { pre_patch, post_patch, pre_unpatch, post_unpatch };

struct Callback {
  std::string object;   // "vmlinux" or a module's kernel name
  CallbackKind kind = CallbackKind::post_patch;
  std::string symbol;   // __noreboot_cb_<kind>__<object>, defined by a patch object
  std::string what;     // the patch object that defines it (for messages)
  std::string stub_symbol;  // the GLOBAL alias the stub refers to (empty: `symbol` itself)
};

// "post_patch" etc. (the klp_callbacks field name).
const char* callback_field(CallbackKind kind);

// The callbacks OBJ defines (functions named __noreboot_cb_<kind>__<object>; `this_object`
// becomes TARGET). TARGET is the object's own target ("vmlinux" or a module); a callback for
// another module is refused
// unless TARGET is vmlinux (Errc::unsupported, naming the symbol). WHAT names OBJ in messages.
Result<std::vector<Callback>> find_callbacks(const elf::Object& obj, const std::string& target, const std::string& what);

// All callbacks of a livepatch: an Error (Errc::unsupported) naming both definitions when two
// declare the same kind for the same object.
Status check_unique_callbacks(const std::vector<Callback>& callbacks);

}  // namespace noreboot::klp
