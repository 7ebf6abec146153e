// See klp_convert.h.
#include "klp/klp_convert.h"
#include "klp/module_keys.h"

#include <map>
#include <set>

#include "core/manifest.h"

namespace noreboot::klp {
namespace {

using elf::SHF_ALLOC;
using elf::SHF_INFO_LINK;
using elf::SHF_RELA_LIVEPATCH;
using elf::SHN_LIVEPATCH;
using elf::SHN_UNDEF;
using elf::SHT_PROGBITS;
using elf::SHT_RELA;
using elf::STB_GLOBAL;
using elf::STB_LOCAL;
using elf::STB_WEAK;
using elf::STT_FILE;
using elf::STT_FUNC;
using elf::STT_NOTYPE;
using elf::STT_OBJECT;

constexpr const char* kPlaceholderSection = ".noreboot.klp";
constexpr const char* kPlaceholderPrefix = "__noreboot_klp_";
constexpr const char* kNewPrefix = "__noreboot_new_";

uint8_t elf_type_of(char t) {
  switch (t) {
    case 'F': return STT_FUNC;
    case 'O': return STT_OBJECT;
    default: return STT_NOTYPE;
  }
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "nothing" : out;
}

const SharedDefinition* find_shared(const SymbolSources& src, std::string_view name) {
  if (src.shared == nullptr) return nullptr;
  auto it = src.shared->find(name);
  return it == src.shared->end() ? nullptr : &it->second;
}

// Every symbol index referenced by a relocation section, with the applied section's name.
std::map<uint32_t, std::set<std::string>> referencing_sections(const elf::Object& obj) {
  std::map<uint32_t, std::set<std::string>> out;
  for (const auto& s : obj.sections) {
    if (s.sh_type != SHT_RELA || s.sh_info >= obj.sections.size()) continue;
    for (const auto& r : s.relocs) out[r.r_sym].insert(obj.sections[s.sh_info].name);
  }
  return out;
}

}  // namespace

bool klp_relocation_allowed_in(std::string_view name, std::string_view owner) {
  if (owner == "vmlinux") return true;  // applied by the module loader with the others
  for (std::string_view p : {".text", ".data", ".rodata"})
    if (name == p || (name.starts_with(p) && name.size() > p.size() && name[p.size()] == '.')) return true;
  return false;
}

Status add_shared_definitions(const elf::Object& obj, const std::string& what, const std::string& target,
                              SharedDefinitions& into) {
  std::string object = target == "vmlinux" ? target : kernel_module_name(target);
  for (const auto& s : obj.symbols) {
    if (s.name.empty() || s.bind() == STB_LOCAL || !s.is_defined_in_section()) continue;
    if (s.type() != STT_FUNC && s.type() != STT_OBJECT && s.type() != STT_NOTYPE) continue;
    bool weak = s.bind() == STB_WEAK;
    auto [it, added] = into.try_emplace(s.name, SharedDefinition{object, what, weak});
    if (added) continue;
    if (!weak && !it->second.weak)
      return Error(Errc::unsupported, what + " and " + it->second.what + " both define '" + s.name +
                                          "': one livepatch module cannot hold two definitions of a global name; "
                                          "make one of them static or rename it");
    if (!weak) it->second = {object, what, false};  // the linker takes the strong one
  }
  return ok_status();
}

namespace {

// One prepare_patch_object call's working set, shared by its three passes.
struct PrepareRun {
  elf::Object& obj;
  const std::string& what;
  const PatchObjectInput& in;
  const SymbolSources& src;
  std::string target;                    // kernel name: vmlinux, nfsd, usb_storage
  bool is_module = false;
  const SymbolIndex& target_index;
  std::string unit_file;                 // the unit's source file (STT_FILE or from `what`)
  std::vector<std::string> unit_locals;  // names the unit defines locally
  std::string tag;                       // "<id>_": unique placeholder names per object
  ConvertPlan plan;
  std::vector<std::string> refusals;
};

// Pass 1a. Patched functions: find each in the object, refuse a changed __weak default that
// the target overrides, resolve its old_sympos in the target, add a global alias the module's
// klp_func table can name (the function itself may be static).
void plan_patched_functions(PrepareRun& run) {
  elf::Object& obj = run.obj;
  const PatchObjectInput& in = run.in;
  const std::string& target = run.target;
  const SymbolIndex& target_index = run.target_index;
  const std::string& unit_file = run.unit_file;
  const std::vector<std::string>& unit_locals = run.unit_locals;
  const std::string& tag = run.tag;
  ConvertPlan& plan = run.plan;
  std::vector<std::string>& refusals = run.refusals;
  for (size_t fi = 0; fi < in.functions.size(); ++fi) {
    const auto& f = in.functions[fi];
    std::string old_name = f.old_name.empty() ? f.name : f.old_name;
    size_t found = 0;
    for (size_t i = 1; i < obj.symbols.size(); ++i) {
      const auto& s = obj.symbols[i];
      if (s.name == f.name && s.type() == STT_FUNC && s.st_shndx != SHN_UNDEF && s.st_shndx < obj.sections.size())
        found = i;
    }
    if (found == 0) {
      refusals.push_back(f.name + ": the patch object does not define this function");
      continue;
    }
    elf::Symbol fn = obj.symbols[found];
    bool local = fn.bind() == STB_LOCAL;
    if (fn.bind() == STB_WEAK && target_index.global_binding(old_name) == 'G') {
      refusals.push_back(old_name + ": the patch changes the __weak default, but " + target +
                         " uses a strong definition from another file; patch that definition instead");
      continue;
    }
    auto res = target_index.resolve({old_name, local, local ? unit_file : std::string(), unit_locals});
    if (!res) {
      refusals.push_back(res.error().message());
      continue;
    }
    if (res->symbol->type != 'F') {
      refusals.push_back(old_name + ": the target's symbol of that name is not a function");
      continue;
    }
    elf::Symbol alias = fn;
    alias.name = kNewPrefix + tag + std::to_string(fi);
    alias.st_info = elf::st_info(STB_GLOBAL, STT_FUNC);
    alias.st_other = 0;  // STV_DEFAULT
    obj.add_symbol(alias);
    plan.functions.push_back({old_name, res->sympos, alias.name});
  }
}

// Pass 1b. Static branches and static calls on a module's keys (module_keys.h): dropped and
// made always-checked (tracepoints), called through the trampoline (static calls), or refused.
Status plan_module_keys(PrepareRun& run) {
  if (!run.is_module) return {};
  elf::Object& obj = run.obj;
  const PatchObjectInput& in = run.in;
  const SymbolSources& src = run.src;
  const std::string& target = run.target;
  ConvertPlan& plan = run.plan;
  std::vector<std::string>& refusals = run.refusals;
  auto module_owned = [&](const std::string& name) {
    ReferenceInfo info;
    if (auto it = in.references.find(name); it != in.references.end()) info = it->second;
    if (!info.local && find_shared(src, name) != nullptr) return false;  // in the livepatch itself
    const ExportedSymbol* exp = info.local ? nullptr : src.exports->find(name);
    if (exp != nullptr) return exp->owner() != "vmlinux";
    return !src.module->named(name).empty();
  };
  NR_TRY(auto keys, neutralize_module_keys(obj, target, module_owned));
  for (auto& r : keys.refusals) refusals.push_back(std::move(r));
  plan.static_calls_via_trampoline = std::move(keys.static_calls_via_trampoline);
  plan.tracepoints_always_checked = std::move(keys.tracepoints_always_checked);
  return {};
}

// Pass 1c. Undefined references: who resolves each one (rules a-d in klp_convert.h). A
// reference the livepatch core must resolve becomes a placeholder symbol in one placeholder
// section, and its .klp.sym name is planned for finalize_module.
Status plan_undefined_references(PrepareRun& run) {
  elf::Object& obj = run.obj;
  const std::string& what = run.what;
  const PatchObjectInput& in = run.in;
  const SymbolSources& src = run.src;
  const std::string& target = run.target;
  const bool is_module = run.is_module;
  const std::string& unit_file = run.unit_file;
  const std::vector<std::string>& unit_locals = run.unit_locals;
  const std::string& tag = run.tag;
  ConvertPlan& plan = run.plan;
  std::vector<std::string>& refusals = run.refusals;
  auto refs = referencing_sections(obj);
  size_t placeholder_sec = 0;
  int n = 0;
  for (size_t i = 1; i < obj.symbols.size(); ++i) {
    auto& s = obj.symbols[i];
    if (s.st_shndx != SHN_UNDEF || s.name.empty()) continue;
    if (s.bind() == STB_LOCAL) continue;
    if (!refs.count(static_cast<uint32_t>(i))) continue;  // unreferenced: the linker drops it
    ReferenceInfo info;
    if (auto it = in.references.find(s.name); it != in.references.end()) info = it->second;
    if (info.local && info.file.empty()) info.file = unit_file;
    // a. A new global of the fix that another of its objects defines: the module link joins them.
    if (const SharedDefinition* def = info.local ? nullptr : find_shared(src, s.name)) {
      if (def->target == "vmlinux" || def->target == target || src.target_depends.count(def->target))
        plan.linked_inside.push_back(s.name);
      else
        refusals.push_back("'" + s.name + "' is defined by the patch object " + def->what + " for " + def->target +
                           ", whose relocations against " + def->target + " are applied only when " + def->target +
                           " loads, but this object patches " + target + ", which can run without " + def->target +
                           "; define it in this object or in one that patches vmlinux");
      continue;
    }
    const ExportedSymbol* exp = info.local ? nullptr : src.exports->find(s.name);
    // b. Exported by vmlinux: the module loader links it; its namespace, if any, is imported.
    if (exp != nullptr && exp->owner() == "vmlinux") {
      plan.kept_exports.push_back(s.name);
      if (!exp->ns.empty()) plan.imported_namespaces.insert(exp->ns);
      continue;
    }
    // c. Exported by a module: a livepatch symbol of that module, if it is loaded whenever the
    // target is. d. Otherwise the target module's own symbols first, then vmlinux.
    std::string owner = "vmlinux";
    const SymbolIndex* where = src.vmlinux;
    if (exp != nullptr) {
      owner = exp->owner();
      if (owner == target) {
        where = src.module;
      } else if (!is_module) {
        refusals.push_back("'" + s.name + "' is exported by module " + owner +
                           ", but this object patches vmlinux, whose relocations are resolved when the livepatch "
                           "loads, also on hosts without " + owner + "; only a fix in a module that depends on " +
                           owner + " can use it");
        continue;
      } else if (!src.target_depends.count(owner)) {
        refusals.push_back("'" + s.name + "' is exported by module " + owner + ", which " + target +
                           " does not depend on (" + target + " depends on: " + join(src.target_depends) + "), so " +
                           owner + " may be absent when " + target +
                           " loads and the livepatch core could not resolve it; a livepatch cannot add a "
                           "dependency to " + target);
        continue;
      } else {
        if (!src.other_module)
          return Error(Errc::internal, what + ": no index of module " + owner + " for '" + s.name + "'");
        auto other = src.other_module(owner);
        if (!other) {
          refusals.push_back("'" + s.name + "' of module " + owner + ": " + other.error().message());
          continue;
        }
        where = *other;
      }
    } else if (is_module && !src.module->named(s.name).empty()) {
      owner = target;
      where = src.module;
    }
    auto res = where->resolve({s.name, info.local, info.file, unit_locals});
    if (!res) {
      refusals.push_back(res.error().message());
      continue;
    }
    for (const auto& sec : refs[static_cast<uint32_t>(i)])
      if (!klp_relocation_allowed_in(sec, owner))
        refusals.push_back("'" + s.name + "' (a symbol of module " + owner + ") is referenced from " + sec +
                           ", a section the kernel reads while loading the livepatch module, before "
                           "relocations against " + owner + " can be applied (when " + owner +
                           " loads); keep the construct (static key, static call, alternative, "
                           "exception entry) out of the patch: exported or not, a module's symbol is "
                           "never an ordinary relocation of a livepatch");
    if (placeholder_sec == 0) {
      elf::Section ph;
      ph.name = kPlaceholderSection;
      ph.sh_type = SHT_PROGBITS;
      ph.sh_flags = SHF_ALLOC;
      ph.sh_addralign = 1;
      ph.data = {0};
      placeholder_sec = obj.add_section(std::move(ph));
    }
    KlpSymbolPlan p;
    p.placeholder = kPlaceholderPrefix + tag + std::to_string(n++);
    p.owner = owner;
    p.rela_object = owner == "vmlinux" ? owner : target;
    p.klp_name = ".klp.sym." + owner + "." + s.name + "," + std::to_string(res->sympos);
    p.bind = s.bind() == STB_WEAK || res->symbol->bind == 'W' ? STB_WEAK : STB_GLOBAL;
    p.type = elf_type_of(res->symbol->type);
    s.name = p.placeholder;
    s.st_shndx = static_cast<uint16_t>(placeholder_sec);
    s.st_value = 0;
    s.st_size = 0;
    s.st_info = elf::st_info(STB_GLOBAL, STT_NOTYPE);
    plan.symbols.push_back(std::move(p));
  }
  return ok_status();
}

}  // namespace

Result<ConvertPlan> prepare_patch_object(elf::Object& obj, const std::string& what, const PatchObjectInput& in,
                                         const SymbolSources& src, int id) {
  const std::string& object_name_hint = what;
  if (src.vmlinux == nullptr || src.exports == nullptr)
    return Error(Errc::internal, "prepare_patch_object: vmlinux index and exports are required");
  if (in.target.find_first_of("./") != std::string::npos || !valid_module_name(kernel_module_name(in.target)))
    return Error(Errc::invalid_argument, "livepatch object name '" + in.target + "' is not a valid module name");
  // The kernel matches klp_object names against struct module::name (usb_storage, not usb-storage).
  const std::string target = in.target == "vmlinux" ? in.target : kernel_module_name(in.target);
  bool is_module = target != "vmlinux";
  if (is_module && src.module == nullptr)
    return Error(Errc::internal, "prepare_patch_object: target " + target + " needs its module index");
  const SymbolIndex& target_index = is_module ? *src.module : *src.vmlinux;

  // The unit's own identity: STT_FILE and its local names, unless the caller gave them.
  std::string unit_file = in.unit_file;
  std::vector<std::string> unit_locals = in.unit_locals;
  for (const auto& s : obj.symbols) {
    if (s.type() == STT_FILE && unit_file.empty()) unit_file = s.name;
    if (in.unit_locals.empty() && s.bind() == STB_LOCAL && s.st_shndx != SHN_UNDEF &&
        (s.type() == STT_FUNC || s.type() == STT_OBJECT))
      unit_locals.push_back(s.name);
  }
  // The differ's output keeps no STT_FILE: fall back to the object's own name (fs/proc/
  // cmdline.o was compiled from cmdline.c, and GCC's STT_FILE is the source's base name).
  if (unit_file.empty() && !object_name_hint.empty()) {
    std::string base = object_name_hint.substr(object_name_hint.find_last_of('/') + 1);
    if (base.size() > 2 && base.ends_with(".o")) unit_file = base.substr(0, base.size() - 2) + ".c";
  }
  // Every reference that was LOCAL in the unit is a name the unit defines: the best evidence
  // for telling apart units that share a base name.
  if (in.unit_locals.empty())
    for (const auto& [name, info] : in.references)
      if (info.local && info.file.empty()) unit_locals.push_back(name);

  PrepareRun run{obj, what, in, src, target, is_module, target_index, std::move(unit_file), std::move(unit_locals),
                 std::to_string(id) + "_", {}, {}};
  run.plan.target = target;
  plan_patched_functions(run);
  NR_TRY_STATUS(plan_module_keys(run));
  NR_TRY_STATUS(plan_undefined_references(run));

  if (!run.refusals.empty()) {
    std::string msg = what + ": " + std::to_string(run.refusals.size()) + " reference(s) cannot be livepatched:";
    for (const auto& r : run.refusals) msg += "\n  - " + r;
    return Error(Errc::unsupported, msg);
  }
  return std::move(run.plan);
}

Result<size_t> finalize_module(elf::Object& ko, const std::string& what, const std::vector<ConvertPlan>& plans) {
  std::map<std::string, const KlpSymbolPlan*> by_placeholder;
  for (const auto& p : plans)
    for (const auto& s : p.symbols) by_placeholder[s.placeholder] = &s;
  std::map<uint32_t, const KlpSymbolPlan*> by_index;
  for (uint32_t i = 1; i < ko.symbols.size(); ++i) {
    auto it = by_placeholder.find(ko.symbols[i].name);
    if (it == by_placeholder.end()) continue;
    if (ko.symbols[i].bind() == STB_LOCAL)
      return Error(Errc::internal, what + ": placeholder " + it->first + " became local in the link");
    by_index[i] = it->second;
  }
  if (by_index.size() != by_placeholder.size())
    return Error(Errc::internal, what + ": " + std::to_string(by_placeholder.size() - by_index.size()) +
                                     " livepatch placeholder symbol(s) disappeared in the module link");

  size_t moved = 0;
  size_t original_count = ko.sections.size();
  for (uint32_t i = 1; i < original_count; ++i) {
    if (ko.sections[i].sh_type != SHT_RELA || ko.sections[i].has_flag(SHF_RELA_LIVEPATCH)) continue;
    uint32_t applied = ko.sections[i].sh_info;
    const std::string applied_name = ko.sections[applied].name;
    std::vector<elf::Relocation> keep;
    std::map<std::string, std::vector<elf::Relocation>> klp;  // by .klp.rela section name
    for (const auto& r : ko.sections[i].relocs) {
      auto it = by_index.find(r.r_sym);
      if (it == by_index.end()) {
        keep.push_back(r);
        continue;
      }
      if (!klp_relocation_allowed_in(applied_name, it->second->owner))
        return Error(Errc::unsupported, what + ": livepatch symbol " + it->second->klp_name +
                                            " is referenced from " + applied_name +
                                            ", which the module loader processes before it can be relocated");
      // .klp.rela.vmlinux.* (vmlinux symbols) is applied while the livepatch loads,
      // .klp.rela.<patched module>.* (any module's symbols) when that module is (or was) loaded.
      klp[".klp.rela." + it->second->rela_object + "." + applied_name].push_back(r);
    }
    if (klp.empty()) continue;
    ko.sections[i].relocs = std::move(keep);
    for (auto& [name, entries] : klp) {
      moved += entries.size();
      uint32_t idx = ko.find_section(name);
      if (idx == 0) {
        // SHF_ALLOC keeps the section in module memory after the load, so the livepatch core
        // can apply it later (when a patched module is loaded after the patch).
        idx = ko.add_rela_section(applied, name, SHF_ALLOC | SHF_RELA_LIVEPATCH);
      }
      auto& rs = ko.sections[idx].relocs;
      rs.insert(rs.end(), entries.begin(), entries.end());
    }
  }
  for (auto& [index, plan] : by_index) {
    auto& sym = ko.symbols[index];
    sym.name = plan->klp_name;
    sym.st_shndx = SHN_LIVEPATCH;
    sym.st_value = 0;
    sym.st_size = 0;
    sym.st_info = elf::st_info(plan->bind, plan->type);
  }
  return moved;
}

}  // namespace noreboot::klp
