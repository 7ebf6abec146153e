#include "diff/fingerprint.h"

#include <algorithm>

#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

Fingerprinter::Fingerprinter(const ObjectIndex& ix, const std::vector<std::string>& identity)
    : special_of_(ix.units().size()), entries_(ix.units().size()), ix_(ix), identity_(identity),
      memo_(ix.units().size()), state_(ix.units().size(), 0) {
  const Object& obj = ix.obj();
  for (uint32_t s = 1; s < obj.sections.size(); ++s) {
    SectionRole role = ix.role(s);
    if (role == SectionRole::ignored || role == SectionRole::paired) continue;
    const auto& rel = ix.relocs(s);
    const auto* spec = role == SectionRole::special ? x86_64::find_special_section(obj.sections[s].name) : nullptr;
    for (uint32_t k = 0; k < rel.size(); ++k) {
      Target t = ix.resolve(rel[k]);
      if (t.kind != Target::Kind::unit) continue;
      const Unit& u = ix.unit(t.unit);
      if (u.kind == UnitKind::anonymous && ix.role(u.section) == SectionRole::code)
        entries_[t.unit].push_back(entry_point(t, rel[k], role == SectionRole::code));
      if (spec && u.kind == UnitKind::function && spec->entry_size != 0 &&
          rel[k].r_offset % spec->entry_size == spec->anchor_offset &&
          rel[k].r_offset - spec->anchor_offset + spec->entry_size <= obj.sections[s].size())
        special_of_[t.unit].push_back({s, rel[k].r_offset - spec->anchor_offset, k, spec});
    }
  }
  for (auto& e : entries_) {
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
  }
}

int64_t Fingerprinter::entry_point(const Target& t, const Relocation& r, bool from_code) const {
  auto info = x86_64::reloc_info(r.r_type);
  return t.offset_in_unit + (from_code && info && info->pc_relative ? x86_64::kPcRelativeBias : 0);
}

std::string Fingerprinter::chunk(uint32_t unit, int64_t entry) {
  uint64_t key = (uint64_t{unit} << 32) ^ static_cast<uint32_t>(entry);
  auto it = chunk_memo_.find(key);
  if (it != chunk_memo_.end()) return it->second;
  const Unit& u = ix_.unit(unit);
  const auto& e = entries_[unit];
  auto next = std::upper_bound(e.begin(), e.end(), entry);
  int64_t end = next == e.end() ? static_cast<int64_t>(u.size) : *next;
  int64_t begin = std::clamp<int64_t>(entry, 0, static_cast<int64_t>(u.size));
  end = std::clamp<int64_t>(end, begin, static_cast<int64_t>(u.size));
  chunk_memo_[key] = "R";  // a cycle through this chunk names it
  std::string out;
  append_range(out, u.section, u.offset + static_cast<uint64_t>(begin), u.offset + static_cast<uint64_t>(end),
               u.offset + static_cast<uint64_t>(begin), nullptr, true);
  chunk_memo_[key] = out;
  return out;
}

void Fingerprinter::append_range(std::string& out, uint32_t section, uint64_t begin, uint64_t end, uint64_t origin,
                                 const Relocation* skip, bool from_code, const Relocation* skip2) {
  const Section& s = ix_.obj().sections[section];
  const auto& rel = ix_.relocs(section);
  auto lo = std::lower_bound(rel.begin(), rel.end(), begin,
                             [](const Relocation& r, uint64_t off) { return r.r_offset < off; });
  if (s.sh_type == SHT_NOBITS) {
    out += 'Z';
  } else {
    end = std::min<uint64_t>(end, s.data.size());
    begin = std::min(begin, end);
    std::string bytes(reinterpret_cast<const char*>(s.data.data()) + begin, static_cast<size_t>(end - begin));
    for (auto r = lo; r != rel.end() && r->r_offset < end; ++r) {
      auto info = x86_64::reloc_info(r->r_type);
      uint64_t at = r->r_offset - begin;
      for (uint64_t b = 0; info && b < info->size && at + b < bytes.size(); ++b) bytes[at + b] = 0;
    }
    out += bytes;
  }
  for (auto r = lo; r != rel.end() && r->r_offset < end; ++r) {
    if (&*r == skip || &*r == skip2) continue;
    out += "|";
    out += std::to_string(r->r_offset - origin);
    out += ':';
    out += std::to_string(r->r_type);
    out += ':';
    out += target_key(*r, from_code);
  }
}

const std::string& Fingerprinter::of(uint32_t unit) {
  if (state_[unit] != 2) {
    state_[unit] = 1;
    std::string fp = compute(unit);
    memo_[unit] = std::move(fp);
    state_[unit] = 2;
  }
  return memo_[unit];
}

bool Fingerprinter::folds_content(const Unit& u) const {
  if (u.parent != kNone) return true;  // a .cold part is part of its function
  if (u.fresh == FreshKind::content || u.fresh == FreshKind::descriptor) return true;
  if (u.fresh == FreshKind::state) return false;
  if (u.kind == UnitKind::function) return false;
  if (u.kind == UnitKind::anonymous) return !ix_.is_writable(u);
  // A named object: local read-only data is copied with its users.
  return ix_.is_local(u) && !ix_.is_writable(u);
}

std::string Fingerprinter::target_key(const Relocation& r, bool from_code) {
  Target t = ix_.resolve(r);
  const Symbol& y = ix_.obj().symbols[r.r_sym];
  switch (t.kind) {
    case Target::Kind::undefined:
      return "U" + y.name + "+" + std::to_string(r.r_addend);
    case Target::Kind::absolute:
      return "A" + y.name + ":" + std::to_string(y.st_value) + "+" + std::to_string(r.r_addend);
    case Target::Kind::symbol:
      return "Y" + y.name + "+" + std::to_string(r.r_addend);
    case Target::Kind::unresolved:
      return "?" + ix_.obj().symbol_name(r.r_sym) + "+" + std::to_string(y.st_value + r.r_addend);
    case Target::Kind::unit:
      break;
  }
  const Unit& u = ix_.unit(t.unit);
  std::string off = std::to_string(t.offset_in_unit);
  if (t.is_string) return "S\"" + std::string(t.string) + "\"";
  if (u.fresh == FreshKind::state) return "W" + u.key + "+" + off;
  if (u.kind == UnitKind::anonymous && ix_.role(u.section) == SectionRole::code)
    return "K{" + chunk(t.unit, entry_point(t, r, from_code)) + "}";
  if (folds_content(u)) {
    if (state_[t.unit] == 1) return "R" + u.key + "+" + off;  // a cycle: name it
    return "C{" + of(t.unit) + "}+" + off;
  }
  return "N" + identity_[t.unit] + "+" + off;
}

std::string Fingerprinter::compute(uint32_t unit) {
  const Unit& u = ix_.unit(unit);
  std::string out;
  out.reserve(std::min<uint64_t>(u.size, ix_.section_of(u).data.size()) + 16);  // NOBITS: no bytes
  out += u.kind == UnitKind::function ? 'F' : 'D';
  out += std::to_string(u.size);
  out += ':';
  if (u.fresh == FreshKind::state) return out;
  const bool in_code = ix_.role(u.section) == SectionRole::code;
  if (u.fresh == FreshKind::descriptor) {
    // Only the references (format, function and file names): the bytes hold __LINE__.
    const auto& rel = ix_.relocs(u.section);
    for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) {
      out += "|" + std::to_string(rel[k].r_offset - u.offset) + ":" + std::to_string(rel[k].r_type) + ":";
      out += target_key(rel[k], false);
    }
    return out;
  }
  append_range(out, u.section, u.offset, u.offset + u.size, u.offset, nullptr, in_code);
  // Special-section entries of this function, line numbers masked.
  for (const EntryRef& e : special_of_[unit]) {
    const Relocation& anchor = ix_.relocs(e.section)[e.anchor_index];
    Target t = ix_.resolve(anchor);
    out += "|sp:";
    out += ix_.obj().sections[e.section].name;
    out += '@';
    out += std::to_string(t.offset_in_unit);
    out += ':';
    std::string entry;
    const Relocation* code_ref = nullptr;
    std::string code;
    if (e.spec->code_length_size == 1) {
      // The replacement code this entry installs: exactly replacementlen bytes at repl_offset.
      const Section& sec = ix_.obj().sections[e.section];
      const auto& rel = ix_.relocs(e.section);
      for (const Relocation& r : rel)
        if (r.r_offset == e.begin + e.spec->code_field_offset) code_ref = &r;
      Target ct = code_ref ? ix_.resolve(*code_ref) : Target{};
      if (ct.kind == Target::Kind::unit && ct.offset_in_unit >= 0) {
        const Unit& cu = ix_.unit(ct.unit);
        uint64_t len = sec.data[e.begin + e.spec->code_length_offset];
        uint64_t from = cu.offset + static_cast<uint64_t>(ct.offset_in_unit);
        code = "|code{";
        append_range(code, cu.section, from, from + len, from, nullptr, true);
        code += "}";
      } else {
        code_ref = nullptr;
      }
    }
    append_range(entry, e.section, e.begin, e.begin + e.spec->entry_size, e.begin, &anchor, false, code_ref);
    entry += code;
    if (e.spec->line_size != 0)
      for (uint32_t b = 0; b < e.spec->line_size && e.spec->line_offset + b < entry.size(); ++b)
        entry[e.spec->line_offset + b] = 0;
    out += entry;
  }
  for (uint32_t c : u.children) {
    out += "|cold:";
    out += of(c);
  }
  return out;
}

}  // namespace noreboot::diff
