// Writing the model back to ELF bytes.
//
// The symbol table is emitted with the null symbol, then every STB_LOCAL symbol, then the rest
// (the ELF rule; .symtab's sh_info is the first non-local), and relocations and group
// signatures are renumbered to match. String tables are rebuilt from the names, so renaming is
// free. Sections are laid out in index order, each at its alignment, section headers last.
// Writing to a path goes through a temporary file and rename(2): nothing half-written remains.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <unordered_map>

#include "elf/object.h"

namespace noreboot::elf {
namespace {

class StringTableBuilder {
 public:
  StringTableBuilder() { bytes_.push_back(0); }
  uint32_t add(const std::string& s) {
    if (s.empty()) return 0;
    auto it = offsets_.find(s);
    if (it != offsets_.end()) return it->second;
    auto off = static_cast<uint32_t>(bytes_.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.push_back(0);
    offsets_.emplace(s, off);
    return off;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  std::unordered_map<std::string, uint32_t> offsets_;
};

uint64_t align_up(uint64_t v, uint64_t a) {
  if (a <= 1 || (a & (a - 1)) != 0) return v;
  return (v + a - 1) & ~(a - 1);
}

}  // namespace

Result<std::vector<uint8_t>> write_object(const Object& obj) {
  NR_TRY_STATUS(obj.validate());
  const uint32_t symtab = obj.symtab_index();
  const uint32_t strtab = obj.sections[symtab].sh_link;
  const uint32_t shstrtab = obj.find_section(".shstrtab");

  // Symbol order: null, locals, then globals/weak.
  std::vector<uint32_t> order;
  order.reserve(obj.symbols.size());
  order.push_back(0);
  for (uint32_t i = 1; i < obj.symbols.size(); ++i)
    if (obj.symbols[i].bind() == STB_LOCAL) order.push_back(i);
  const auto first_global = static_cast<uint32_t>(order.size());
  for (uint32_t i = 1; i < obj.symbols.size(); ++i)
    if (obj.symbols[i].bind() != STB_LOCAL) order.push_back(i);
  std::vector<uint32_t> new_index(obj.symbols.size());
  for (uint32_t k = 0; k < order.size(); ++k) new_index[order[k]] = k;

  StringTableBuilder shnames;
  StringTableBuilder symnames_own;
  StringTableBuilder& symnames = (strtab == shstrtab) ? shnames : symnames_own;

  std::vector<uint32_t> name_off(obj.sections.size(), 0);
  for (uint32_t i = 1; i < obj.sections.size(); ++i) name_off[i] = shnames.add(obj.sections[i].name);

  std::vector<uint8_t> symtab_bytes(order.size() * kSymSize, 0);
  for (uint32_t k = 1; k < order.size(); ++k) {
    const Symbol& y = obj.symbols[order[k]];
    uint8_t* p = symtab_bytes.data() + k * kSymSize;
    store<uint32_t>(p, symnames.add(y.name));
    p[4] = y.st_info;
    p[5] = y.st_other;
    store<uint16_t>(p + 6, y.st_shndx);
    store<uint64_t>(p + 8, y.st_value);
    store<uint64_t>(p + 16, y.st_size);
  }

  // Contents of every section in output form.
  std::vector<std::vector<uint8_t>> generated(obj.sections.size());
  for (uint32_t i = 1; i < obj.sections.size(); ++i) {
    const Section& s = obj.sections[i];
    if (s.sh_type == SHT_RELA) {
      auto& out = generated[i];
      out.resize(s.relocs.size() * kRelaSize);
      for (size_t k = 0; k < s.relocs.size(); ++k) {
        const Relocation& r = s.relocs[k];
        uint8_t* p = out.data() + k * kRelaSize;
        store<uint64_t>(p, r.r_offset);
        store<uint64_t>(p + 8, (uint64_t{new_index[r.r_sym]} << 32) | r.r_type);
        store<int64_t>(p + 16, r.r_addend);
      }
    } else if (s.sh_type == SHT_GROUP) {
      auto& out = generated[i];
      out.resize(4 + 4 * s.group_members.size());
      store<uint32_t>(out.data(), s.group_flags);
      for (size_t k = 0; k < s.group_members.size(); ++k) store<uint32_t>(out.data() + 4 + 4 * k, s.group_members[k]);
    }
  }
  generated[symtab] = std::move(symtab_bytes);
  // Names are all added above (section names first, then symbol names) before tables are copied.
  if (strtab != shstrtab) generated[strtab] = symnames_own.bytes();
  generated[shstrtab] = shnames.bytes();

  auto contents = [&](uint32_t i) -> std::span<const uint8_t> {
    const Section& s = obj.sections[i];
    if (s.sh_type == SHT_RELA || s.sh_type == SHT_GROUP || i == symtab || i == strtab || i == shstrtab)
      return generated[i];
    return s.data.span();
  };

  // Layout.
  std::vector<uint64_t> offsets(obj.sections.size(), 0);
  uint64_t pos = kEhdrSize;
  for (uint32_t i = 1; i < obj.sections.size(); ++i) {
    const Section& s = obj.sections[i];
    if (s.sh_type == SHT_NOBITS || s.sh_type == SHT_NULL) {
      offsets[i] = align_up(pos, s.sh_addralign);
      continue;
    }
    pos = align_up(pos, s.sh_addralign);
    offsets[i] = pos;
    pos += contents(i).size();
  }
  const uint64_t shoff = align_up(pos, 8);
  std::vector<uint8_t> out(shoff + obj.sections.size() * kShdrSize, 0);

  // ELF header.
  std::memcpy(out.data(), kElfMag, 4);
  out[4] = ELFCLASS64;
  out[5] = ELFDATA2LSB;
  out[6] = EV_CURRENT;
  out[7] = obj.ei_osabi;
  store<uint16_t>(&out[16], ET_REL);
  store<uint16_t>(&out[18], obj.e_machine);
  store<uint32_t>(&out[20], EV_CURRENT);
  store<uint64_t>(&out[40], shoff);
  store<uint32_t>(&out[48], obj.e_flags);
  store<uint16_t>(&out[52], static_cast<uint16_t>(kEhdrSize));
  store<uint16_t>(&out[58], static_cast<uint16_t>(kShdrSize));
  store<uint16_t>(&out[60], static_cast<uint16_t>(obj.sections.size()));
  store<uint16_t>(&out[62], static_cast<uint16_t>(shstrtab));

  for (uint32_t i = 1; i < obj.sections.size(); ++i) {
    const Section& s = obj.sections[i];
    const auto& c = contents(i);
    if (s.sh_type != SHT_NOBITS && !c.empty()) std::memcpy(out.data() + offsets[i], c.data(), c.size());
    uint8_t* h = out.data() + shoff + i * kShdrSize;
    uint32_t link = s.sh_link;
    uint32_t info = s.sh_info;
    uint64_t entsize = s.sh_entsize;
    if (s.sh_type == SHT_RELA) { link = symtab; entsize = kRelaSize; }
    if (s.sh_type == SHT_GROUP) { link = symtab; info = new_index[s.sh_info]; entsize = 4; }
    if (i == symtab) { link = strtab; info = first_global; entsize = kSymSize; }
    store<uint32_t>(h, name_off[i]);
    store<uint32_t>(h + 4, s.sh_type);
    store<uint64_t>(h + 8, s.sh_flags);
    store<uint64_t>(h + 16, s.sh_addr);
    store<uint64_t>(h + 24, offsets[i]);
    store<uint64_t>(h + 32, s.sh_type == SHT_NOBITS ? s.nobits_size : c.size());
    store<uint32_t>(h + 40, link);
    store<uint32_t>(h + 44, info);
    store<uint64_t>(h + 48, s.sh_addralign);
    store<uint64_t>(h + 56, entsize);
  }
  return out;
}

Status write_object_file(const Object& obj, const std::string& path) {
  NR_TRY(auto bytes, write_object(obj));
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(Errc::io, tmp + ": cannot create (is the directory writable?)");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      return Error(Errc::io, tmp + ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Errc::io, path + ": cannot rename temporary file into place");
  }
  return ok_status();
}

}  // namespace noreboot::elf
