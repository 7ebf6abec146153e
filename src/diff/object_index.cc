#include "diff/object_index.h"

#include <algorithm>

#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

namespace {

// Allocated sections that carry no code or data a patch replaces: module metadata, export
// tables, objtool annotations, tracepoint/event registration tables. Their entries stay with
// the running kernel.
constexpr std::string_view kIgnoredPrefixes[] = {
    ".discard", "__ksymtab", "__kcrctab", ".modinfo", "__versions", ".gnu.linkonce",
    ".note", "__param", ".initcall", ".con_initcall", "_kprobe_blacklist", "__tracepoints_ptrs",
    "__tracepoints_strings", "_ftrace_events", "_ftrace_eval_map", "__bpf_raw_tp_map",
    ".export_symbol", "__modver", ".static_call.text", ".static_call_tramp_key", ".comment",
    "__dyndbg_classes", ".init.setup", "__syscalls_metadata", "__kprobes",
    ".noreboot.ignore.", ".kpatch.ignore."};  // the author's ignore markers (ignore_markers.h)

std::string cold_parent_name(std::string_view name) {
  // foo.cold -> foo; foo.part.0.cold.3 -> foo.part.0
  size_t pos = name.rfind(".cold");
  return std::string(name.substr(0, pos));
}

}  // namespace

SectionRole classify_section(const Section& s) {
  if (!s.has_flag(SHF_ALLOC)) return SectionRole::ignored;
  if (s.sh_type != SHT_PROGBITS && s.sh_type != SHT_NOBITS) return SectionRole::ignored;
  for (auto p : kIgnoredPrefixes)
    if (s.name.starts_with(p)) return SectionRole::ignored;
  const bool has_bytes = s.sh_type == SHT_PROGBITS;  // a NOBITS "special section" is malformed
  if (x86_64::find_special_section(s.name)) return has_bytes ? SectionRole::special : SectionRole::ignored;
  for (const auto& sp : x86_64::special_sections())
    if (!sp.paired_with.empty() && sp.paired_with == s.name)
      return has_bytes ? SectionRole::paired : SectionRole::ignored;
  if (s.has_flag(SHF_EXECINSTR)) return SectionRole::code;
  if (s.has_flag(SHF_MERGE) && s.has_flag(SHF_STRINGS)) return SectionRole::strings;
  return SectionRole::data;
}

const std::vector<uint32_t>& ObjectIndex::with_key(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? empty_ : it->second;
}

bool ObjectIndex::is_writable(const Unit& u) const {
  const Section& s = section_of(u);
  return s.has_flag(SHF_WRITE) || s.sh_type == SHT_NOBITS;
}
bool ObjectIndex::is_local(const Unit& u) const { return u.sym == kNone || obj_->symbols[u.sym].bind() == STB_LOCAL; }
uint8_t ObjectIndex::bind(const Unit& u) const { return u.sym == kNone ? STB_LOCAL : obj_->symbols[u.sym].bind(); }
uint8_t ObjectIndex::type(const Unit& u) const {
  if (u.sym != kNone) return obj_->symbols[u.sym].type();
  return u.kind == UnitKind::function ? STT_FUNC : STT_OBJECT;
}

Result<ObjectIndex> ObjectIndex::build(const Object& obj, std::string what) {
  ObjectIndex ix;
  ix.obj_ = &obj;
  ix.what_ = std::move(what);
  const size_t nsec = obj.sections.size();
  ix.roles_.resize(nsec, SectionRole::ignored);
  ix.relocs_.resize(nsec);
  ix.units_in_.resize(nsec);
  ix.unit_of_sym_.assign(obj.symbols.size(), kNone);
  bool has_comment = false;
  for (uint32_t i = 1; i < nsec; ++i) {
    const Section& s = obj.sections[i];
    if (s.name == ".comment") has_comment = true;
    if (s.sh_type != SHT_RELA) ix.roles_[i] = classify_section(s);
  }
  for (uint32_t i = 1; i < nsec; ++i) {
    const Section& s = obj.sections[i];
    if (s.sh_type != SHT_RELA) continue;
    if (s.sh_info >= nsec) return Error(Errc::invalid_input, ix.what_ + ": " + s.name + " relocates no section");
    if (ix.roles_[s.sh_info] == SectionRole::ignored) continue;  // debug info, metadata: never read
    auto& v = ix.relocs_[s.sh_info];
    v.insert(v.end(), s.relocs.begin(), s.relocs.end());
  }
  for (auto& v : ix.relocs_)
    std::stable_sort(v.begin(), v.end(), [](const Relocation& a, const Relocation& b) { return a.r_offset < b.r_offset; });

  // Named units: FUNC / OBJECT / TLS symbols in code, data or string sections.
  for (uint32_t i = 1; i < obj.symbols.size(); ++i) {
    const Symbol& y = obj.symbols[i];
    if (y.type() == STT_FILE && ix.source_file_.empty()) ix.source_file_ = y.name;
    if (!y.is_defined_in_section()) continue;
    if (y.type() != STT_FUNC && y.type() != STT_OBJECT && y.type() != STT_TLS) continue;
    SectionRole r = ix.roles_[y.st_shndx];
    if (r != SectionRole::code && r != SectionRole::data && r != SectionRole::strings) continue;
    Unit u;
    u.kind = y.type() == STT_FUNC ? UnitKind::function : UnitKind::object;
    u.sym = i;
    u.section = y.st_shndx;
    u.offset = y.st_value;
    u.size = y.st_size;
    u.name = y.name;
    ix.units_.push_back(std::move(u));
  }
  // Zero-sized symbols cover their whole section when alone in it; otherwise they are labels.
  std::vector<uint32_t> count(nsec, 0);
  for (const Unit& u : ix.units_) ++count[u.section];
  for (Unit& u : ix.units_) {
    if (u.size == 0 && count[u.section] == 1 && u.offset == 0) u.size = obj.sections[u.section].size();
  }
  // A zero-sized object alone in an empty section stays a unit: `static struct lock_class_key
  // __key` is an empty struct without lockdep, and code still takes its address.
  std::erase_if(ix.units_, [&](const Unit& u) { return u.size == 0 && count[u.section] != 1; });
  for (const Unit& u : ix.units_) {
    uint64_t secsize = obj.sections[u.section].size();
    if (u.offset > secsize || u.size > secsize - u.offset)
      return Error(Errc::invalid_input, ix.what_ + ": symbol " + u.name + " (offset " + std::to_string(u.offset) +
                                            ", size " + std::to_string(u.size) + ") extends past the end of section " +
                                            obj.sections[u.section].name);
  }
  // Sort by section, offset; merge aliases.
  std::stable_sort(ix.units_.begin(), ix.units_.end(), [](const Unit& a, const Unit& b) {
    return a.section != b.section ? a.section < b.section : a.offset < b.offset;
  });
  std::vector<Unit> merged;
  for (Unit& u : ix.units_) {
    if (!merged.empty() && merged.back().section == u.section && merged.back().offset == u.offset &&
        merged.back().size == u.size) {
      // Prefer the local/global symbol that is not a bare alias: keep the first, record the rest.
      merged.back().aliases.push_back(u.sym);
      continue;
    }
    merged.push_back(std::move(u));
  }
  ix.units_ = std::move(merged);
  std::fill(count.begin(), count.end(), 0);
  for (const Unit& u : ix.units_) ++count[u.section];
  // Anonymous units: whole code/data/string sections without named units.
  for (uint32_t i = 1; i < nsec; ++i) {
    SectionRole r = ix.roles_[i];
    if (r != SectionRole::code && r != SectionRole::data && r != SectionRole::strings) continue;
    if (count[i] != 0 || obj.sections[i].size() == 0) continue;
    Unit u;
    u.kind = UnitKind::anonymous;
    u.section = i;
    u.offset = 0;
    u.size = obj.sections[i].size();
    u.name = obj.sections[i].name;
    ix.units_.push_back(std::move(u));
  }
  std::stable_sort(ix.units_.begin(), ix.units_.end(), [](const Unit& a, const Unit& b) {
    return a.section != b.section ? a.section < b.section : a.offset < b.offset;
  });

  std::unordered_map<std::string, uint32_t> by_name;
  for (uint32_t k = 0; k < ix.units_.size(); ++k) {
    Unit& u = ix.units_[k];
    ix.units_in_[u.section].push_back(k);
    if (u.sym != kNone) ix.unit_of_sym_[u.sym] = k;
    for (uint32_t a : u.aliases) ix.unit_of_sym_[a] = k;
    const Section& s = obj.sections[u.section];
    u.fresh = fresh_kind(u.name, s.name);
    char kind = u.kind == UnitKind::function ? 'F' : u.kind == UnitKind::object ? 'O' : 'A';
    u.key = std::string(1, kind) + ":" + normalize_name(u.name);
    ix.by_key_[u.key].push_back(k);
    if (u.kind == UnitKind::function) by_name.emplace(u.name, k);
    const auto& rel = ix.relocs_[u.section];
    auto lo = std::lower_bound(rel.begin(), rel.end(), u.offset,
                               [](const Relocation& r, uint64_t off) { return r.r_offset < off; });
    auto hi = std::lower_bound(lo, rel.end(), u.offset + u.size,
                               [](const Relocation& r, uint64_t off) { return r.r_offset < off; });
    u.reloc_begin = static_cast<size_t>(lo - rel.begin());
    u.reloc_end = static_cast<size_t>(hi - rel.begin());
  }
  // Cold parts belong to their function.
  for (uint32_t k = 0; k < ix.units_.size(); ++k) {
    Unit& u = ix.units_[k];
    if (u.kind != UnitKind::function || !is_cold_part(u.name)) continue;
    auto it = by_name.find(cold_parent_name(u.name));
    if (it == by_name.end()) continue;  // a cold part without its parent is diffed on its own
    u.parent = it->second;
    ix.units_[it->second].children.push_back(k);
  }
  const std::string& f = ix.source_file_;
  ix.assembly_ = !has_comment || (f.size() > 2 && (f.ends_with(".S") || f.ends_with(".s")));
  return ix;
}

Target ObjectIndex::resolve(const Relocation& r) const {
  Target t;
  t.sym = r.r_sym;
  const Symbol& y = obj_->symbols[r.r_sym];
  if (y.st_shndx == SHN_UNDEF) {
    t.kind = Target::Kind::undefined;
    return t;
  }
  if (!y.is_defined_in_section()) {
    t.kind = Target::Kind::absolute;
    return t;
  }
  const int64_t where = static_cast<int64_t>(y.st_value) + r.r_addend;
  auto info = x86_64::reloc_info(r.r_type);
  const bool pcrel = info && info->pc_relative;
  const auto& in = units_in_[y.st_shndx];
  if (in.empty()) {
    // A named symbol in a section the differ does not diff (a static-call trampoline in
    // .static_call.text, a tracepoint string): referenced by its name. Section symbols there
    // cannot be named: unresolved.
    if (y.type() != STT_SECTION && !y.name.empty()) t.kind = Target::Kind::symbol;
    return t;
  }
  uint32_t u = kNone;
  if (unit_of_sym_[r.r_sym] != kNone) {
    u = unit_of_sym_[r.r_sym];
  } else if (in.size() == 1) {
    u = in[0];
  } else {
    auto find = [&](int64_t pos) -> uint32_t {
      for (uint32_t k : in) {
        const Unit& c = units_[k];
        if (pos >= static_cast<int64_t>(c.offset) && pos < static_cast<int64_t>(c.offset + c.size)) return k;
      }
      return kNone;
    };
    if (pcrel) {
      for (int64_t tail : {4, 5, 6, 8, 0}) {
        u = find(where + tail);
        if (u != kNone) break;
      }
    } else {
      u = find(where);
    }
    if (u == kNone) {
      // Between units (padding) or past the end: name the last unit starting before it.
      u = in[0];
      for (uint32_t k : in)
        if (static_cast<int64_t>(units_[k].offset) <= where) u = k;
    }
  }
  t.kind = Target::Kind::unit;
  t.unit = u;
  const Unit& unit = units_[u];
  t.offset_in_unit = where - static_cast<int64_t>(unit.offset);
  if (roles_[unit.section] == SectionRole::strings) {
    const Section& s = obj_->sections[unit.section];
    int64_t pos = where + (pcrel ? x86_64::kPcRelativeBias : 0);
    if (pos >= 0 && static_cast<uint64_t>(pos) < s.data.size()) {
      auto str = string_at(s, static_cast<uint64_t>(pos));
      if (str) {
        t.string = *str;
        t.is_string = true;
      }
    }
  }
  return t;
}

}  // namespace noreboot::diff
