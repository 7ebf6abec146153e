#include "diff/fingerprint.h"

#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

Fingerprinter::Fingerprinter(const ObjectIndex& ix, const std::vector<std::string>& identity)
    : ix_(ix), identity_(identity), memo_(ix.units().size()), state_(ix.units().size(), 0) {}

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

std::string Fingerprinter::target_key(const Relocation& r) {
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
  if (folds_content(u)) {
    if (state_[t.unit] == 1) return "R" + u.key + "+" + off;  // a cycle: name it
    return "C{" + of(t.unit) + "}+" + off;
  }
  return "N" + identity_[t.unit] + "+" + off;
}

std::string Fingerprinter::compute(uint32_t unit) {
  const Unit& u = ix_.unit(unit);
  const Section& s = ix_.section_of(u);
  std::string out;
  out.reserve(u.size + 16);
  out += u.kind == UnitKind::function ? 'F' : 'D';
  out += std::to_string(u.size);
  out += ':';
  const auto& rel = ix_.relocs(u.section);
  if (u.fresh == FreshKind::state) return out;
  if (u.fresh != FreshKind::descriptor) {
    if (s.sh_type == SHT_NOBITS) {
      out += 'Z';
    } else {
      std::string bytes(reinterpret_cast<const char*>(s.data.data()) + u.offset,
                        static_cast<size_t>(std::min<uint64_t>(u.size, s.data.size() - u.offset)));
      for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) {
        auto info = x86_64::reloc_info(rel[k].r_type);
        uint64_t at = rel[k].r_offset - u.offset;
        for (uint64_t b = 0; info && b < info->size && at + b < bytes.size(); ++b) bytes[at + b] = 0;
      }
      out += bytes;
    }
  }
  for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) {
    const Relocation& r = rel[k];
    out += "|";
    out += std::to_string(r.r_offset - u.offset);
    out += ':';
    out += std::to_string(r.r_type);
    out += ':';
    out += target_key(r);
  }
  for (uint32_t c : u.children) {
    out += "|cold:";
    out += of(c);
  }
  return out;
}

}  // namespace noreboot::diff
