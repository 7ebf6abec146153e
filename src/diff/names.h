// Names of symbols and sections as the differ compares them.
//
// GCC numbers what it creates: clones get `.constprop.N`, `.isra.N`, `.part.N`; split cold code
// `.cold` (or `.cold.N`); static locals `name.N`; LLVM adds `.llvm.N`. The numbers depend on the
// order of everything else in the file, so a fix elsewhere in the file renumbers them. The
// normalised name drops the numbers but keeps the kind of clone: `foo.part.3` -> `foo.part`,
// `count.0` -> `count`, `foo.constprop.0.isra.0` -> `foo.constprop.isra`, `x.llvm.123` -> `x`.
// Keeping the tags matters: `foo` and `foo.part.0` are different functions.
// Names starting with '.' (sections, local labels) are normalised the same way after the first
// component (`.bss.count.0` -> `.bss.count`, `.rodata.f.str1.1` -> `.rodata.f.str1`).
#pragma once

#include <string>
#include <string_view>

namespace noreboot::diff {

std::string normalize_name(std::string_view name);

// `foo.cold` / `foo.cold.3` / `foo.part.0.cold`: a split-off part of a function, not a function
// of its own (it is only jumped to from its parent).
bool is_cold_part(std::string_view name);

// `foo.isra.0` / `foo.constprop.2` / `foo.part.0` (or a combination): a copy of a function GCC
// made with a calling convention of its own choosing (parameters dropped, passed by value,
// constants folded in, a split-off tail). Not `.cold` parts, which are not entered by calls.
bool is_compiler_clone(std::string_view name);

// Static locals the kernel creates per use site that a patch must not share with the running
// kernel but use fresh (klp-diff does the same): WARN_ONCE/printk_once state (`__already_done`,
// `__print_once`, `__warned`), lockdep class keys (`__key`), `__func__`, switch tables
// (`CSWTCH`), printk ratelimit state (`_rs`), dynamic-debug descriptors (`__UNIQUE_ID_ddebug`).
enum class FreshKind {
  none,
  state,        // content irrelevant (zero-initialised once-flags, lockdep keys): compare by name
  content,      // constant content that belongs to the function (`__func__`, `CSWTCH`, `_rs`)
  descriptor,   // dynamic-debug descriptor: compare its references (format string), not its
                // bytes, which hold the __LINE__ of the pr_debug
};
FreshKind fresh_kind(std::string_view symbol_name, std::string_view section_name);

}  // namespace noreboot::diff
