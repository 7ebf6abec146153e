// Livepatch relocations: turning references a module cannot link into `.klp.rela` entries.
//
// Problem: the differ's output object refers to kernel symbols by name (undefined symbols).
// The module loader can resolve only exported symbols. Everything else (static functions and
// variables of the patched file, unexported globals) must be resolved by the livepatch core
// from kallsyms, which needs `.klp.sym.<obj>.<name>,<sympos>` symbols (st_shndx SHN_LIVEPATCH)
// and relocation sections `.klp.rela.<obj>.<section>` flagged SHF_RELA_LIVEPATCH
// (Documentation/livepatch/module-elf-format.rst). But the module must first go through the
// kernel's own module link (Kbuild, modpost: vermagic, __versions CRCs, .modinfo), and neither
// ld nor modpost may see SHN_LIVEPATCH symbols or unresolved unexported names.
//
// Approach, in two passes around the Kbuild link:
//  1. prepare_patch_object() (before the link) resolves every undefined symbol. Exported ones
//     stay. Each other one is renamed to a placeholder `__noreboot_klp_<n>`, a GLOBAL symbol
//     defined in a one-byte section `.noreboot.klp`: the linker keeps relocations against global
//     symbols as they are (it folds only local ones into section+addend), so every offset stays
//     exact through `ld -r`, whatever else lands in the same output section, and modpost sees
//     nothing undefined. Each patched function also gets a GLOBAL alias `__noreboot_new_<n>` so
//     the generated klp_patch stub (another translation unit) can point at it while the function
//     keeps its own name and binding.
//  2. finalize_module() (after the link) moves every relocation against a placeholder out of
//     `.rela<sec>` into `.klp.rela.<obj>.<sec>` (SHF_ALLOC so the section survives the load and
//     can be applied again when a patched module loads later; SHF_INFO_LINK; sh_info = <sec>)
//     and renames each placeholder to its `.klp.sym` name with SHN_LIVEPATCH and value 0.
//
// When each relocation is applied (kernel 6.1, kernel/module/main.c, kernel/livepatch/core.c),
// and so what is refused: the section's object name decides. `.klp.rela.vmlinux.*` sections
// are applied by the module loader itself, in apply_relocations() together with the ordinary
// ones (since 5.8), before module_finalize() (alternatives, ORC, retpoline/return sites) and
// the jump-label and static-call notifiers run. `.klp.rela.<module>.*` sections are applied
// only when that module is live (klp_init_object_loaded / klp_module_coming), long after the
// livepatch module's own special sections were processed. So a relocation against a vmlinux
// symbol may sit in any section (a __jump_table key, a .static_call_sites key), but one
// against a module's symbol may sit only in code and data (.text*, .data*, .rodata*); one in
// __jump_table, .static_call_sites, .altinstructions/.altinstr_replacement or any other special
// section is refused with the symbol and the section. Relocation sections are therefore named
// after the symbol's object, not the patched object. A function whose image copy is a strong
// override of the patch object's `__weak` default is refused too (patching the default would
// change nothing).
//
// Objects are edited with the project's ELF model (src/elf): relocations are decoded per
// section and the symbol and string tables are regenerated on write, so renaming a symbol and
// moving a relocation are plain value edits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "elf/object.h"
#include "klp/exports.h"
#include "klp/symbol_index.h"

namespace noreboot::klp {

// What the differ knows about one undefined reference of its output object.
struct ReferenceInfo {
  bool local = false;  // the symbol was LOCAL (static) in the original translation unit
  std::string file;    // that unit's STT_FILE base name; defaults to the object's STT_FILE
};

struct PatchedFunction {
  std::string name;    // name of the function in the patch object (and in the kernel)
  // Optional: the kernel's name if it differs (normally equal to name).
  std::string old_name;
};

struct PatchObjectInput {
  std::string target;  // "vmlinux" or the module's name ("xfs")
  std::vector<PatchedFunction> functions;
  std::map<std::string, ReferenceInfo> references;  // by undefined symbol name
  // STT_FILE base name of the unit (cmdline.c). When empty: the object's STT_FILE, else the
  // object's file name with .o -> .c (the differ's output keeps no STT_FILE).
  std::string unit_file;
  // Local names the original unit defines. When empty: the object's defined locals plus every
  // reference marked local (those are names the unit defined).
  std::vector<std::string> unit_locals;
};

struct SymbolSources {
  const SymbolIndex* vmlinux = nullptr;
  const SymbolIndex* module = nullptr;  // the target module's index when target != vmlinux
  const ExportTable* exports = nullptr;
};

struct KlpSymbolPlan {
  std::string placeholder;  // __noreboot_klp_<n>
  std::string owner;        // the object the symbol lives in: "vmlinux" or a module name
  std::string klp_name;     // .klp.sym.<obj>.<name>,<sympos>
  uint8_t bind = 1;         // STB_GLOBAL or STB_WEAK
  uint8_t type = 0;         // STT_FUNC / STT_OBJECT / STT_NOTYPE
};

struct KlpFuncPlan {
  std::string old_name;
  uint64_t old_sympos = 0;
  std::string new_symbol;   // __noreboot_new_<n>
};

struct ConvertPlan {
  std::string target;
  std::vector<KlpSymbolPlan> symbols;
  std::vector<KlpFuncPlan> functions;
  std::vector<std::string> kept_exports;  // names left as normal relocations
};

// Pass 1. `what` names the object in messages (its path; also the unit-file fallback).
// `id` makes the placeholder names unique across several objects of one module.
// Edits `obj` in place; every refusal is collected into one Error (Errc::unsupported).
Result<ConvertPlan> prepare_patch_object(elf::Object& obj, const std::string& what, const PatchObjectInput& in,
                                         const SymbolSources& src, int id);

// Pass 2, on the linked .ko. Returns the number of relocations moved.
Result<size_t> finalize_module(elf::Object& ko, const std::string& what, const std::vector<ConvertPlan>& plans);

// May a relocation against a symbol of `owner` ("vmlinux" or a module) live in this section?
bool klp_relocation_allowed_in(std::string_view section_name, std::string_view owner);

}  // namespace noreboot::klp
