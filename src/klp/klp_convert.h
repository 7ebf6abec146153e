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
//  1. prepare_patch_object() (before the link) decides, for every undefined symbol, who
//     resolves it (the rules below). Those the module loader or the module link resolve stay.
//     Each other one is renamed to a placeholder `__noreboot_klp_<n>`, a GLOBAL symbol
//     defined in a one-byte section `.noreboot.klp`: the linker keeps relocations against global
//     symbols as they are (it folds only local ones into section+addend), so every offset stays
//     exact through `ld -r`, whatever else lands in the same output section, and modpost sees
//     nothing undefined. Each patched function also gets a GLOBAL alias `__noreboot_new_<n>` so
//     the generated klp_patch stub (another translation unit) can point at it while the function
//     keeps its own name and binding. It runs as three passes over the object (klp_convert.cc):
//     plan_patched_functions (aliases, __weak, old_sympos), plan_module_keys (a module's own
//     static keys and static calls, module_keys.h), then plan_undefined_references.
//  2. finalize_module() (after the link) moves every relocation against a placeholder out of
//     `.rela<sec>` into `.klp.rela.<obj>.<sec>` (SHF_ALLOC so the section survives the load and
//     can be applied again when a patched module loads later; SHF_INFO_LINK; sh_info = <sec>)
//     and renames each placeholder to its `.klp.sym` name with SHN_LIVEPATCH and value 0.
//
// Who resolves an undefined reference. The livepatch module must load on every host of its
// kernel, whether or not the modules it patches (or the modules those call) are loaded. Any
// ordinary reference to a module's symbol breaks that: modpost records the exporting module in
// `depends=` and finit_module fails with "Unknown symbol in module" wherever it is not loaded.
// So, for each undefined, referenced, non-local symbol of a patch object for target T:
//  a. another patch object of the same livepatch defines it (a new function or variable of the
//     fix, shared between its files): left for the module link (`ld -r` joins the objects). Its
//     code is fully relocated only once its own target is loaded, so the definition must come
//     from an object for vmlinux, for T, or for a module T depends on; otherwise refused.
//  b. exported by vmlinux (Module.symvers): an ordinary relocation; the loader resolves it and
//     modpost records its CRC. If the export is in a symbol namespace, modpost refuses a module
//     that does not import it ("uses symbol X from namespace NS, but does not import it"), so the
//     plan lists the namespace and the stub says MODULE_INFO(import_ns, "NS") (module_gen.h):
//     the reference keeps the loader's CRC check, stays legal in any section (a __jump_table
//     key), and needs no sympos. Importing a namespace creates no dependency.
//  c. exported by a module M (in a namespace or not), or a non-exported symbol of T: a
//     livepatch symbol `.klp.sym.M.<name>,<sympos>` (M may be T), sympos from M's shipped .ko.
//     Only when M is T or a module T depends on (its depends=, transitively): M is then loaded
//     whenever T is, and the livepatch core resolves the symbol when T loads. A fix in vmlinux
//     cannot use a module's symbol at all, nor a fix in T one of a module T does not need.
//  d. anything else: a non-exported vmlinux symbol, `.klp.sym.vmlinux.<name>,<sympos>`.
// So the livepatch's `depends=` is always empty, and build_livepatch_module checks that.
//
// When each relocation is applied (kernel 6.1, kernel/module/main.c, kernel/livepatch/core.c),
// and so where it goes and what is refused. `.klp.rela.vmlinux.*` sections are applied by the
// module loader itself, in apply_relocations() together with the ordinary ones (since 5.8),
// before module_finalize() (alternatives, ORC, retpoline/return sites) and the jump-label and
// static-call notifiers run. `.klp.rela.<module>.*` sections are applied only for a klp_object
// the patch has, when that module is live (klp_init_object_loaded / klp_module_coming), long
// after the livepatch module's own special sections were processed. klp_resolve_symbols then
// looks each `.klp.sym.<obj>` up in <obj>, which may be another module than the section's,
// but it refuses a vmlinux symbol in a module's section ("invalid access to vmlinux symbol ...
// from module-specific livepatch relocation section"). Hence a relocation section is named:
//  - `.klp.rela.vmlinux.<sec>` for a vmlinux symbol, whatever object the code patches;
//  - `.klp.rela.<T>.<sec>` for a module's symbol, after the patched object T whose code needs
//    it, not after the symbol's module: `.klp.rela.nfsd..text.nfsd4_sequence` holds
//    `.klp.sym.sunrpc.svc_reserve,0` (the kernel has no klp_object sunrpc to apply it for).
// A relocation against a vmlinux symbol may sit in any section (a __jump_table key, a
// .static_call_sites key), but one against any module's symbol may sit only in code and data
// (.text*, .data*, .rodata*). Before the rules run, module_keys.h takes the module's keys out
// of __jump_table (tracepoints: the branch always jumps to the self-checking tracing path) and
// .static_call_sites (the call goes through the trampoline), and refuses other module keys;
// what is left in .altinstructions/.altinstr_replacement or any other special section is
// refused with the symbol and the section. A function whose image copy is a strong override of the patch
// object's `__weak` default is refused too (patching the default would change nothing).
//
// Objects are edited with the project's ELF model (src/elf): relocations are decoded per
// section and the symbol and string tables are regenerated on write, so renaming a symbol and
// moving a relocation are plain value edits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
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

// A global symbol one of the livepatch's own patch objects defines (rule a).
struct SharedDefinition {
  std::string target;  // the defining object's target: "vmlinux" or a module name
  std::string what;    // the defining object (for messages)
  bool weak = false;
};
using SharedDefinitions = std::map<std::string, SharedDefinition, std::less<>>;

// Adds the non-local symbols `obj` defines to `into`. Two strong definitions of one name in two
// objects are refused (Errc::unsupported): the module link would fail on them.
Status add_shared_definitions(const elf::Object& obj, const std::string& what, const std::string& target,
                              SharedDefinitions& into);

// The index of another module (one the target depends on), by kernel module name.
using ModuleIndexLookup = std::function<Result<const SymbolIndex*>(const std::string& module_name)>;

struct SymbolSources {
  const SymbolIndex* vmlinux = nullptr;
  const SymbolIndex* module = nullptr;  // the target module's index when target != vmlinux
  const ExportTable* exports = nullptr;
  // Indexes of the modules whose exports the target uses (rule c); unset: such uses are refused.
  ModuleIndexLookup other_module;
  // The modules always loaded while the target is: its depends=, transitively (kernel names).
  std::set<std::string> target_depends;
  // What the livepatch's patch objects define (rule a); null: nothing is shared.
  const SharedDefinitions* shared = nullptr;
};

struct KlpSymbolPlan {
  std::string placeholder;  // __noreboot_klp_<n>
  std::string owner;        // the object the symbol lives in: "vmlinux" or a module name
  // The object whose .klp.rela sections carry its relocations: "vmlinux" for a vmlinux
  // symbol, else the patched module whose code references it (see above).
  std::string rela_object;
  std::string klp_name;     // .klp.sym.<owner>.<name>,<sympos>
  uint8_t bind = 1;         // STB_GLOBAL or STB_WEAK
  uint8_t type = 0;         // STT_FUNC / STT_OBJECT / STT_NOTYPE
};

struct KlpFuncPlan {
  std::string old_name;
  uint64_t old_sympos = 0;
  std::string new_symbol;   // __noreboot_new_<n>
};

struct ConvertPlan {
  std::string target;  // kernel name of the patched object: "vmlinux", "nfsd", "usb_storage"
  std::vector<KlpSymbolPlan> symbols;
  std::vector<KlpFuncPlan> functions;
  std::vector<std::string> kept_exports;      // vmlinux exports left as normal relocations (rule b)
  std::set<std::string> imported_namespaces;  // their symbol namespaces, for MODULE_INFO(import_ns)
  std::vector<std::string> linked_inside;     // defined by another patch object (rule a)
  // Module keys (module_keys.h): static calls now made through their trampoline, and
  // tracepoints whose static branches always take the (self-checking) tracing path.
  std::vector<std::string> static_calls_via_trampoline;
  std::vector<std::string> tracepoints_always_checked;
};

// Pass 1. `what` names the object in messages (its path; also the unit-file fallback).
// `id` makes the placeholder names unique across several objects of one module.
// Edits `obj` in place; every refusal is collected into one Error (Errc::unsupported).
Result<ConvertPlan> prepare_patch_object(elf::Object& obj, const std::string& what, const PatchObjectInput& in,
                                         const SymbolSources& src, int id);

// Pass 2, on the linked .ko. Returns the number of relocations moved.
Result<size_t> finalize_module(elf::Object& ko, const std::string& what, const std::vector<ConvertPlan>& plans);

// May a relocation against a symbol of `owner` ("vmlinux" or a module) live in this section?
// (A module's symbol: only code and data; see above.)
bool klp_relocation_allowed_in(std::string_view section_name, std::string_view owner);

}  // namespace noreboot::klp
