// See module_keys.h for why each kind of entry is dropped, rewritten or refused.
#include "klp/module_keys.h"

#include <cstring>
#include <map>
#include <set>

#include "elf/arch_x86_64.h"

namespace noreboot::klp {

namespace {

constexpr std::string_view kJumpTable = "__jump_table";
constexpr std::string_view kStaticCallSites = ".static_call_sites";
// struct jump_entry { s32 code; s32 target; long key; } and struct static_call_site { s32 addr;
// s32 key; } (Linux 6.1, x86-64). The key's two low bits are flags: branch (bit 0) and init
// (bit 1, set at compile time by x86's arch_static_branch, cleared by the kernel).
constexpr uint64_t kJumpEntrySize = 16, kJumpKeyOffset = 8, kJumpTargetOffset = 4;
constexpr uint64_t kStaticCallSiteSize = 8, kStaticCallKeyOffset = 4;
// offsetof(struct tracepoint, key): the key follows `const char *name`.
constexpr int64_t kTracepointKeyOffset = 8;
constexpr std::string_view kTracepointPrefix = "__tracepoint_";

constexpr uint8_t kNop2[] = {0x66, 0x90};
constexpr uint8_t kNop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

struct Place {
  uint32_t section = 0;
  uint64_t offset = 0;
};

// Where a `.long label - .` relocation points: section and offset (S + A), for a symbol defined
// in a section (the assembler's section symbol, or a function symbol).
bool place_of(const elf::Object& obj, const elf::Relocation& r, Place& out) {
  if (r.r_sym >= obj.symbols.size()) return false;
  const elf::Symbol& s = obj.symbols[r.r_sym];
  if (!s.is_defined_in_section() || s.st_shndx >= obj.sections.size()) return false;
  out.section = s.st_shndx;
  out.offset = s.st_value + static_cast<uint64_t>(r.r_addend);
  return true;
}

std::string function_at(const elf::Object& obj, const Place& p) {
  for (const auto& s : obj.symbols)
    if (s.type() == elf::STT_FUNC && s.st_shndx == p.section && s.st_value <= p.offset && p.offset < s.st_value + s.st_size)
      return s.name;
  return obj.sections[p.section].name;
}

// Removes the entries `drop` of special section `sec` and their relocations; later entries and
// their relocations move down.
void remove_entries(elf::Object& obj, uint32_t sec, uint64_t entry_size, const std::set<uint64_t>& drop) {
  if (drop.empty()) return;
  auto& data = obj.sections[sec].data;
  std::vector<uint8_t> kept;
  std::vector<uint64_t> shift(data.size() / entry_size + 1, 0);
  uint64_t removed = 0;
  for (uint64_t e = 0; e * entry_size < data.size(); ++e) {
    shift[e] = removed;
    if (drop.count(e)) {
      ++removed;
      continue;
    }
    kept.insert(kept.end(), data.begin() + static_cast<long>(e * entry_size),
                data.begin() + static_cast<long>((e + 1) * entry_size));
  }
  data = std::move(kept);
  if (uint32_t rela = obj.rela_for(sec); rela != 0) {
    std::vector<elf::Relocation> relocs;
    for (auto r : obj.sections[rela].relocs) {
      uint64_t e = r.r_offset / entry_size;
      if (drop.count(e)) continue;
      r.r_offset -= shift[e] * entry_size;
      relocs.push_back(r);
    }
    obj.sections[rela].relocs = std::move(relocs);
  }
}

// The relocations of one entry, by their offset inside it.
std::map<uint64_t, const elf::Relocation*> entry_relocs(const elf::Object& obj, uint32_t sec, uint64_t e,
                                                        uint64_t entry_size) {
  std::map<uint64_t, const elf::Relocation*> out;
  uint32_t rela = obj.rela_for(sec);
  if (rela == 0) return out;
  for (const auto& r : obj.sections[rela].relocs)
    if (r.r_offset / entry_size == e) out[r.r_offset % entry_size] = &r;
  return out;
}

// Turns the NOP of a static branch at `code` into `jmp target`. Empty on success, else why not.
std::string force_jump(elf::Object& obj, const Place& code, const elf::Relocation target_rel) {
  auto& text = obj.sections[code.section].data.mutable_bytes();  // edited below: the first edit copies the mapping
  auto at = [&](size_t n) { return code.offset + n <= text.size(); };
  Place target;
  if (!place_of(obj, target_rel, target)) return "its target is not in a section of the object";
  const uint8_t* p = text.data() + code.offset;
  if (at(1) && (p[0] == 0xeb || p[0] == 0xe9)) return {};  // already a jump (key on by default)
  if (at(2) && std::memcmp(p, kNop2, 2) == 0) {
    int64_t disp = static_cast<int64_t>(target.offset) - static_cast<int64_t>(code.offset + 2);
    if (target.section != code.section || disp < -128 || disp > 127)
      return "its 2-byte NOP cannot reach the branch target";
    text[code.offset] = 0xeb;
    text[code.offset + 1] = static_cast<uint8_t>(static_cast<int8_t>(disp));
    return {};
  }
  if (at(5) && std::memcmp(p, kNop5, 5) == 0) {
    text[code.offset] = 0xe9;
    std::memset(text.data() + code.offset + 1, 0, 4);
    uint32_t rela = obj.rela_for(code.section);
    if (rela == 0) rela = obj.add_rela_section(code.section);
    auto& relocs = obj.sections[rela].relocs;
    std::erase_if(relocs, [&](const elf::Relocation& r) { return r.r_offset == code.offset + 1; });
    // rel32 = target - (code + 5), written at code + 1: S + A - P with A = target's A - 4.
    relocs.push_back({code.offset + 1, elf::x86_64::R_X86_64_PC32, target_rel.r_sym, target_rel.r_addend - 4});
    return {};
  }
  return "the code at the branch is not a NOP or jump";
}

// Undefined symbols among `names` that no relocation uses any more are removed: modpost reads
// the symbol table, not the relocations, and would record the module that exports them in the
// livepatch's depends= (an unreferenced `__SCK__tp_func_<tp>` of 9pnet gave depends=9pnet).
Status drop_unreferenced(elf::Object& obj, const std::set<std::string>& names) {
  if (names.empty()) return ok_status();
  std::vector<bool> used(obj.symbols.size(), false);
  for (const auto& sec : obj.sections)
    for (const auto& r : sec.relocs)
      if (r.r_sym < used.size()) used[r.r_sym] = true;
  std::vector<bool> drop(obj.symbols.size(), false);
  bool any = false;
  for (size_t i = 1; i < obj.symbols.size(); ++i)
    if (!used[i] && obj.symbols[i].st_shndx == elf::SHN_UNDEF && names.count(obj.symbols[i].name))
      drop[i] = any = true;
  return any ? obj.remove_symbols(drop) : ok_status();
}

}  // namespace

Result<ModuleKeyReport> neutralize_module_keys(elf::Object& obj, const std::string& target,
                                               const std::function<bool(const std::string&)>& module_owned) {
  ModuleKeyReport report;
  std::set<std::string> dropped_keys;
  auto key_of = [&](const elf::Relocation* r) -> const elf::Symbol* {
    if (r == nullptr || r->r_sym >= obj.symbols.size()) return nullptr;
    const elf::Symbol& s = obj.symbols[r->r_sym];
    if (s.st_shndx != elf::SHN_UNDEF || s.name.empty() || !module_owned(s.name)) return nullptr;
    return &s;
  };

  if (uint32_t sec = obj.find_section(kStaticCallSites); sec != 0) {
    std::set<uint64_t> drop;
    uint64_t n = obj.sections[sec].size() / kStaticCallSiteSize;
    for (uint64_t e = 0; e < n; ++e) {
      auto rel = entry_relocs(obj, sec, e, kStaticCallSiteSize);
      auto it = rel.find(kStaticCallKeyOffset);
      const elf::Symbol* key = key_of(it == rel.end() ? nullptr : it->second);
      if (key == nullptr) continue;
      drop.insert(e);
      report.static_calls_via_trampoline.push_back(key->name);
      dropped_keys.insert(key->name);
    }
    remove_entries(obj, sec, kStaticCallSiteSize, drop);
  }

  if (uint32_t sec = obj.find_section(kJumpTable); sec != 0) {
    std::set<uint64_t> drop;
    uint64_t n = obj.sections[sec].size() / kJumpEntrySize;
    for (uint64_t e = 0; e < n; ++e) {
      auto rel = entry_relocs(obj, sec, e, kJumpEntrySize);
      auto kit = rel.find(kJumpKeyOffset);
      const elf::Symbol* key_sym = key_of(kit == rel.end() ? nullptr : kit->second);
      if (key_sym == nullptr) continue;
      const std::string key = key_sym->name;  // copies: the object's tables may grow below
      auto cit = rel.find(0), tit = rel.find(kJumpTargetOffset);
      Place code;
      if (cit == rel.end() || tit == rel.end() || !place_of(obj, *cit->second, code) ||
          code.section >= obj.sections.size())
        return Error(Errc::invalid_argument, "__jump_table entry " + std::to_string(e) + " (key " + key +
                                                 ") has no code or target relocation");
      const std::string fn = function_at(obj, code);
      const int64_t addend = kit->second->r_addend;
      const bool tracepoint = key.starts_with(kTracepointPrefix);
      const std::string where = "'" + key + "' (a symbol of a module, " + target +
                                " or one it depends on) is the key of a static branch in " + fn + " (__jump_table)";
      const std::string why =
          ": the kernel reads the livepatch's __jump_table while loading it, before relocations against a "
          "module's symbols can be applied (when the module loads), and would link the branch to a wrong key";
      if (!tracepoint) {
        report.refusals.push_back(where + why + "; in the fix, test the key with static_key_enabled(&" + key +
                                  ") (or static_key_enabled(&" + key +
                                  ".key)) instead of static_branch_likely/unlikely, or reboot into a fixed kernel");
        continue;
      }
      if ((addend & ~int64_t{3}) != kTracepointKeyOffset || (addend & 1) != 0) {
        report.refusals.push_back(where + why + "; it is not the tracepoint's static_key_false branch (key + " +
                                  std::to_string(addend) + "), so it cannot be made always-checked");
        continue;
      }
      if (std::string bad = force_jump(obj, code, *tit->second); !bad.empty()) {
        report.refusals.push_back(where + why + "; it cannot be made always-checked: " + bad);
        continue;
      }
      drop.insert(e);
      report.tracepoints_always_checked.push_back(key.substr(kTracepointPrefix.size()));
      dropped_keys.insert(key);
    }
    remove_entries(obj, sec, kJumpEntrySize, drop);
  }
  NR_TRY_STATUS(drop_unreferenced(obj, dropped_keys));
  return report;
}

}  // namespace noreboot::klp
