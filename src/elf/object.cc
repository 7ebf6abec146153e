// Editing the ELF model: finding, adding and removing sections and symbols with every index
// that refers to them remapped. See object.h for the model's invariants.
#include "elf/object.h"

namespace noreboot::elf {
namespace {

bool links_a_section(const Section& s) {
  return s.sh_type == SHT_SYMTAB || s.sh_type == SHT_RELA || s.sh_type == SHT_GROUP ||
         s.has_flag(SHF_LINK_ORDER);
}
bool info_is_a_section(const Section& s) {
  return s.sh_type == SHT_RELA || (s.has_flag(SHF_INFO_LINK) && s.sh_type != SHT_SYMTAB);
}

}  // namespace

Object Object::make_empty() {
  Object o;
  o.sections.resize(1);
  o.symbols.resize(1);
  Section symtab;
  symtab.name = ".symtab";
  symtab.sh_type = SHT_SYMTAB;
  symtab.sh_addralign = 8;
  symtab.sh_entsize = kSymSize;
  Section strtab;
  strtab.name = ".strtab";
  strtab.sh_type = SHT_STRTAB;
  Section shstrtab;
  shstrtab.name = ".shstrtab";
  shstrtab.sh_type = SHT_STRTAB;
  uint32_t st = o.add_section(std::move(symtab));
  o.sections[st].sh_link = o.add_section(std::move(strtab));
  o.add_section(std::move(shstrtab));
  return o;
}

uint32_t Object::find_section(std::string_view name) const {
  for (uint32_t i = 1; i < sections.size(); ++i)
    if (sections[i].name == name) return i;
  return 0;
}

uint32_t Object::symtab_index() const {
  for (uint32_t i = 1; i < sections.size(); ++i)
    if (sections[i].sh_type == SHT_SYMTAB) return i;
  return 0;
}

uint32_t Object::rela_for(uint32_t target) const {
  for (uint32_t i = 1; i < sections.size(); ++i)
    if (sections[i].sh_type == SHT_RELA && sections[i].sh_info == target) return i;
  return 0;
}

uint32_t Object::find_symbol(std::string_view name) const {
  for (uint32_t i = 1; i < symbols.size(); ++i)
    if (symbols[i].name == name) return i;
  return 0;
}

std::string Object::symbol_name(uint32_t i) const {
  if (i >= symbols.size()) return "<symbol " + std::to_string(i) + ">";
  const Symbol& s = symbols[i];
  if (s.type() == STT_SECTION && s.is_defined_in_section() && s.st_shndx < sections.size())
    return sections[s.st_shndx].name;
  return s.name;
}

uint32_t Object::add_section(Section s) {
  sections.push_back(std::move(s));
  return static_cast<uint32_t>(sections.size() - 1);
}

uint32_t Object::add_symbol(Symbol s) {
  symbols.push_back(std::move(s));
  return static_cast<uint32_t>(symbols.size() - 1);
}

uint32_t Object::add_rela_section(uint32_t target, std::string name, uint64_t extra_flags) {
  Section r;
  r.name = name.empty() ? ".rela" + sections[target].name : std::move(name);
  r.sh_type = SHT_RELA;
  r.sh_flags = SHF_INFO_LINK | extra_flags;
  r.sh_link = symtab_index();
  r.sh_info = target;
  r.sh_addralign = 8;
  r.sh_entsize = kRelaSize;
  return add_section(std::move(r));
}

Status Object::remove_symbols(const std::vector<bool>& drop) {
  auto dropped = [&](uint32_t i) { return i < drop.size() && drop[i]; };
  if (dropped(0)) return Error(Errc::invalid_argument, "cannot remove the null symbol");
  for (const Section& s : sections) {
    for (const Relocation& r : s.relocs)
      if (dropped(r.r_sym))
        return Error(Errc::invalid_argument, "cannot remove symbol " + symbol_name(r.r_sym) +
                                                 ": relocation in " + s.name + " still refers to it");
    if (s.sh_type == SHT_GROUP && dropped(s.sh_info))
      return Error(Errc::invalid_argument, "cannot remove symbol " + symbol_name(s.sh_info) +
                                               ": it is the signature of group " + s.name);
  }
  std::vector<uint32_t> map(symbols.size());
  std::vector<Symbol> kept;
  for (uint32_t i = 0; i < symbols.size(); ++i) {
    if (dropped(i)) continue;
    map[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(symbols[i]));
  }
  symbols = std::move(kept);
  for (Section& s : sections) {
    for (Relocation& r : s.relocs) r.r_sym = map[r.r_sym];
    if (s.sh_type == SHT_GROUP) s.sh_info = map[s.sh_info];
  }
  return ok_status();
}

Status Object::remove_sections(const std::vector<bool>& drop_in) {
  std::vector<bool> drop(sections.size(), false);
  for (size_t i = 0; i < drop_in.size() && i < drop.size(); ++i) drop[i] = drop_in[i];
  uint32_t st = symtab_index();
  for (uint32_t i = 0; i < sections.size(); ++i) {
    if (!drop[i]) continue;
    const Section& s = sections[i];
    if (i == 0 || i == st || (st && i == sections[st].sh_link) || s.name == ".shstrtab")
      return Error(Errc::invalid_argument, "cannot remove section " + std::to_string(i) + " (" + s.name +
                                               "): the null section and symbol/string tables are regenerated, not removed");
  }
  for (uint32_t i = 1; i < sections.size(); ++i)
    if (sections[i].sh_type == SHT_RELA && sections[i].sh_info < drop.size() && drop[sections[i].sh_info])
      drop[i] = true;
  std::vector<bool> drop_sym(symbols.size(), false);
  for (uint32_t i = 1; i < symbols.size(); ++i) {
    const Symbol& y = symbols[i];
    if (y.is_defined_in_section() && y.st_shndx < drop.size() && drop[y.st_shndx]) drop_sym[i] = true;
  }
  // Relocations in kept sections must not refer to symbols of removed sections.
  for (uint32_t i = 1; i < sections.size(); ++i) {
    if (drop[i]) continue;
    for (const Relocation& r : sections[i].relocs)
      if (drop_sym[r.r_sym])
        return Error(Errc::invalid_argument, "cannot remove the section of symbol " + symbol_name(r.r_sym) +
                                                 ": kept relocation section " + sections[i].name + " refers to it");
  }
  std::vector<uint32_t> map(sections.size(), 0);
  std::vector<Section> kept;
  for (uint32_t i = 0; i < sections.size(); ++i) {
    if (drop[i]) continue;
    map[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(sections[i]));
  }
  sections = std::move(kept);
  for (Section& s : sections) {
    if (links_a_section(s) && s.sh_link < map.size()) s.sh_link = map[s.sh_link];
    if (info_is_a_section(s) && s.sh_info < map.size()) s.sh_info = map[s.sh_info];
    std::vector<uint32_t> members;
    for (uint32_t m : s.group_members)
      if (m < map.size() && !drop[m]) members.push_back(map[m]);
    s.group_members = std::move(members);
  }
  for (Symbol& y : symbols)
    if (y.is_defined_in_section() && y.st_shndx < map.size()) y.st_shndx = static_cast<uint16_t>(map[y.st_shndx]);
  return remove_symbols(drop_sym);
}

Status Object::validate() const {
  if (sections.empty() || symbols.empty())
    return Error(Errc::internal, "object has no null section or null symbol");
  if (sections.size() >= SHN_LORESERVE)
    return Error(Errc::unsupported, std::to_string(sections.size()) + " sections: extended section numbering is not supported");
  uint32_t symtabs = 0;
  for (uint32_t i = 1; i < sections.size(); ++i) {
    const Section& s = sections[i];
    if (s.sh_type == SHT_SYMTAB) {
      ++symtabs;
      if (s.sh_link == 0 || s.sh_link >= sections.size() || sections[s.sh_link].sh_type != SHT_STRTAB)
        return Error(Errc::internal, s.name + ": sh_link does not name a string table");
    }
    if (s.sh_type == SHT_RELA) {
      if (s.sh_info == 0 || s.sh_info >= sections.size())
        return Error(Errc::internal, s.name + ": sh_info " + std::to_string(s.sh_info) + " is not a section");
      for (const Relocation& r : s.relocs)
        if (r.r_sym >= symbols.size())
          return Error(Errc::internal, s.name + ": relocation refers to symbol " + std::to_string(r.r_sym) + ", past the last symbol");
    }
    if (s.has_flag(SHF_LINK_ORDER) && s.sh_link >= sections.size())
      return Error(Errc::internal, s.name + ": SHF_LINK_ORDER sh_link out of range");
    for (uint32_t m : s.group_members)
      if (m == 0 || m >= sections.size()) return Error(Errc::internal, s.name + ": group member out of range");
    if (s.sh_type == SHT_GROUP && s.sh_info >= symbols.size())
      return Error(Errc::internal, s.name + ": group signature symbol out of range");
  }
  if (symtabs != 1)
    return Error(Errc::internal, "object needs exactly one symbol table, has " + std::to_string(symtabs));
  if (find_section(".shstrtab") == 0 || sections[find_section(".shstrtab")].sh_type != SHT_STRTAB)
    return Error(Errc::internal, "object has no .shstrtab string table");
  for (uint32_t i = 1; i < symbols.size(); ++i) {
    const Symbol& y = symbols[i];
    if (y.is_defined_in_section() && y.st_shndx >= sections.size())
      return Error(Errc::internal, "symbol " + y.name + ": st_shndx " + std::to_string(y.st_shndx) + " is not a section");
  }
  return ok_status();
}

}  // namespace noreboot::elf
