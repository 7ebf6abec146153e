// Reading an ELF64 relocatable object into the model.
//
// Every offset and size that comes from the file is checked against the buffer before use
// (bloaty's rule), integers are read through memcpy (elf_types.h), and every error names the
// input, the section or symbol, and the offending value, so a truncated or hostile file is a
// clear message, never a crash. The fuzz target (reader_fuzz.cc) feeds arbitrary bytes here.
//
// Loading is zero-copy: read_object_file maps the file (mapped_file.h) and each section's
// `data` is a view into that mapping which keeps it alive (section_bytes.h), so nothing is
// zero-filled or copied; only headers, symbols (their names), relocations and group members
// are decoded into values. A RELA or GROUP section's raw bytes are dropped once decoded (the
// writer regenerates them), which releases nothing but the view. read_object on a caller's
// span copies the bytes once into a shared buffer and views that.
#include <sstream>

#include "elf/arch_x86_64.h"
#include "elf/mapped_file.h"
#include "elf/object.h"

namespace noreboot::elf {
namespace {

std::string hex(uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

Error bad(std::string_view what, const std::string& msg) {
  return Error(Errc::invalid_input, std::string(what) + ": " + msg);
}

// [off, off+len) inside a buffer of `size` bytes, without overflow.
bool in_range(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

}  // namespace

Result<std::string_view> string_at(const Section& s, uint64_t offset) {
  if (offset >= s.data.size())
    return Error(Errc::invalid_input, "string offset " + hex(offset) + " is outside " +
                                          (s.name.empty() ? "string table" : s.name) + " (size " +
                                          hex(s.data.size()) + ")");
  const auto* begin = reinterpret_cast<const char*>(s.data.data()) + offset;
  size_t max = s.data.size() - offset;
  size_t len = strnlen(begin, max);
  if (len == max)
    return Error(Errc::invalid_input, "string at " + hex(offset) + " in " + s.name +
                                          " is not NUL-terminated");
  return std::string_view(begin, len);
}

namespace {

// Parses `bytes`, which `backing` keeps alive; section contents become views into them.
Result<Object> parse_object(std::span<const uint8_t> bytes, const std::shared_ptr<const void>& backing,
                            std::string_view what) {
  const uint8_t* b = bytes.data();
  const uint64_t size = bytes.size();
  if (size < kEhdrSize) return bad(what, "file is " + std::to_string(size) + " bytes, too short for an ELF header");
  if (std::memcmp(b, kElfMag, 4) != 0) return bad(what, "not an ELF file (bad magic)");
  if (b[4] != ELFCLASS64) return bad(what, "not a 64-bit ELF file (EI_CLASS " + std::to_string(b[4]) + ")");
  if (b[5] != ELFDATA2LSB) return bad(what, "not a little-endian ELF file");
  Object obj;
  obj.ei_osabi = b[7];
  uint16_t e_type = load<uint16_t>(b + 16);
  obj.e_machine = load<uint16_t>(b + 18);
  uint64_t e_shoff = load<uint64_t>(b + 40);
  obj.e_flags = load<uint32_t>(b + 48);
  uint16_t e_shentsize = load<uint16_t>(b + 58);
  uint64_t e_shnum = load<uint16_t>(b + 60);
  uint32_t e_shstrndx = load<uint16_t>(b + 62);
  if (e_type != ET_REL)
    return bad(what, "e_type is " + std::to_string(e_type) + ", expected a relocatable object (ET_REL, 1): pass a .o file");
  if (obj.e_machine != EM_X86_64)
    return bad(what, "e_machine is " + std::to_string(obj.e_machine) + ", only x86-64 (62) is supported");
  if (e_shoff == 0) return bad(what, "no section header table");
  if (e_shentsize != kShdrSize) return bad(what, "e_shentsize is " + std::to_string(e_shentsize) + ", expected 64");
  if (e_shnum == 0 || e_shstrndx == SHN_XINDEX)
    return bad(what, "uses extended section numbering (more than 65279 sections), which is not supported");
  if (!in_range(e_shoff, e_shnum * kShdrSize, size))
    return bad(what, "section header table at " + hex(e_shoff) + " (" + std::to_string(e_shnum) +
                         " entries) runs past the end of the file (" + hex(size) + " bytes)");
  if (e_shstrndx >= e_shnum) return bad(what, "e_shstrndx " + std::to_string(e_shstrndx) + " is not a section");

  // Pass 1: headers and raw contents.
  std::vector<uint32_t> name_offsets(e_shnum);
  obj.sections.resize(e_shnum);
  for (uint64_t i = 0; i < e_shnum; ++i) {
    const uint8_t* h = b + e_shoff + i * kShdrSize;
    Section& s = obj.sections[i];
    name_offsets[i] = load<uint32_t>(h);
    s.sh_type = load<uint32_t>(h + 4);
    s.sh_flags = load<uint64_t>(h + 8);
    s.sh_addr = load<uint64_t>(h + 16);
    uint64_t off = load<uint64_t>(h + 24);
    uint64_t sz = load<uint64_t>(h + 32);
    s.sh_link = load<uint32_t>(h + 40);
    s.sh_info = load<uint32_t>(h + 44);
    s.sh_addralign = load<uint64_t>(h + 48);
    s.sh_entsize = load<uint64_t>(h + 56);
    if (i == 0) continue;
    if (s.sh_type == SHT_NOBITS) {
      s.nobits_size = sz;
    } else if (s.sh_type != SHT_NULL) {
      if (!in_range(off, sz, size))
        return bad(what, "section " + std::to_string(i) + ": contents at " + hex(off) + " size " +
                             hex(sz) + " run past the end of the file (" + hex(size) + " bytes)");
      s.data = SectionBytes::view(backing, bytes.subspan(off, sz));
    }
    if (s.sh_type == SHT_REL)
      return bad(what, "section " + std::to_string(i) + " is SHT_REL; only RELA relocations are supported on x86-64");
    if (s.sh_type == SHT_SYMTAB_SHNDX)
      return bad(what, "has SHT_SYMTAB_SHNDX (extended section indices), which is not supported");
  }
  const Section& shstr = obj.sections[e_shstrndx];
  if (shstr.sh_type != SHT_STRTAB) return bad(what, "e_shstrndx does not name a string table");
  for (uint64_t i = 1; i < e_shnum; ++i) {
    auto name = string_at(shstr, name_offsets[i]);
    if (!name) return bad(what, "section " + std::to_string(i) + " name: " + name.error().message());
    obj.sections[i].name = std::string(*name);
  }

  // Pass 2: the symbol table.
  uint32_t symtab = 0;
  for (uint32_t i = 1; i < e_shnum; ++i) {
    if (obj.sections[i].sh_type != SHT_SYMTAB) continue;
    if (symtab != 0) return bad(what, "more than one symbol table");
    symtab = i;
  }
  if (symtab != 0) {
    const Section& st = obj.sections[symtab];
    if (st.sh_entsize != kSymSize) return bad(what, st.name + ": sh_entsize " + std::to_string(st.sh_entsize) + ", expected 24");
    if (st.data.size() % kSymSize != 0) return bad(what, st.name + ": size is not a multiple of 24");
    if (st.sh_link == 0 || st.sh_link >= e_shnum || obj.sections[st.sh_link].sh_type != SHT_STRTAB)
      return bad(what, st.name + ": sh_link " + std::to_string(st.sh_link) + " is not a string table");
    const Section& strtab = obj.sections[st.sh_link];
    size_t n = st.data.size() / kSymSize;
    if (n == 0) return bad(what, st.name + " is empty (it needs at least the null symbol)");
    obj.symbols.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = st.data.data() + i * kSymSize;
      Symbol& sym = obj.symbols[i];
      uint32_t name_off = load<uint32_t>(p);
      sym.st_info = p[4];
      sym.st_other = p[5];
      sym.st_shndx = load<uint16_t>(p + 6);
      sym.st_value = load<uint64_t>(p + 8);
      sym.st_size = load<uint64_t>(p + 16);
      if (name_off != 0) {
        auto name = string_at(strtab, name_off);
        if (!name) return bad(what, "symbol " + std::to_string(i) + " name: " + name.error().message());
        sym.name = std::string(*name);
      }
      if (sym.st_shndx == SHN_XINDEX)
        return bad(what, "symbol " + std::to_string(i) + " (" + sym.name + ") uses SHN_XINDEX, which is not supported");
      if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE && sym.st_shndx >= e_shnum)
        return bad(what, "symbol " + std::to_string(i) + " (" + sym.name + ") has st_shndx " +
                             std::to_string(sym.st_shndx) + ", past the last section " + std::to_string(e_shnum - 1));
    }
    if (st.sh_info > n) return bad(what, st.name + ": sh_info (first global) " + std::to_string(st.sh_info) + " > symbol count");
  } else {
    obj.symbols.resize(1);
  }

  // Pass 3: relocations and groups.
  for (uint32_t i = 1; i < e_shnum; ++i) {
    Section& s = obj.sections[i];
    if (s.sh_type == SHT_RELA) {
      if (s.sh_entsize != kRelaSize) return bad(what, s.name + ": sh_entsize " + std::to_string(s.sh_entsize) + ", expected 24");
      if (s.data.size() % kRelaSize != 0) return bad(what, s.name + ": size is not a multiple of 24");
      if (s.sh_link != symtab || symtab == 0) return bad(what, s.name + ": sh_link does not name the symbol table");
      if (s.sh_info == 0 || s.sh_info >= e_shnum)
        return bad(what, s.name + ": sh_info " + std::to_string(s.sh_info) + " is not a section");
      uint64_t target_size = obj.sections[s.sh_info].size();
      size_t n = s.data.size() / kRelaSize;
      s.relocs.resize(n);
      for (size_t k = 0; k < n; ++k) {
        const uint8_t* p = s.data.data() + k * kRelaSize;
        Relocation& r = s.relocs[k];
        r.r_offset = load<uint64_t>(p);
        uint64_t info = load<uint64_t>(p + 8);
        r.r_sym = static_cast<uint32_t>(info >> 32);
        r.r_type = static_cast<uint32_t>(info & 0xffffffff);
        r.r_addend = load<int64_t>(p + 16);
        if (r.r_sym >= obj.symbols.size())
          return bad(what, s.name + ": relocation " + std::to_string(k) + " refers to symbol " +
                               std::to_string(r.r_sym) + ", past the last symbol");
        auto ri = x86_64::reloc_info(r.r_type);
        uint64_t field = ri ? ri->size : 0;
        if (!in_range(r.r_offset, field, target_size))
          return bad(what, s.name + ": relocation " + std::to_string(k) + " at offset " + hex(r.r_offset) +
                               " is outside " + obj.sections[s.sh_info].name + " (size " + hex(target_size) + ")");
      }
      s.data.clear();
    } else if (s.sh_type == SHT_GROUP) {
      if (s.data.size() < 4 || s.data.size() % 4 != 0) return bad(what, s.name + ": malformed section group");
      if (s.sh_info >= obj.symbols.size()) return bad(what, s.name + ": group signature symbol out of range");
      s.group_flags = load<uint32_t>(s.data.data());
      for (size_t k = 4; k < s.data.size(); k += 4) {
        uint32_t m = load<uint32_t>(s.data.data() + k);
        if (m == 0 || m >= e_shnum) return bad(what, s.name + ": group member " + std::to_string(m) + " is not a section");
        s.group_members.push_back(m);
      }
      s.data.clear();
    } else if (s.has_flag(SHF_LINK_ORDER) && s.sh_link >= e_shnum) {
      return bad(what, s.name + ": SHF_LINK_ORDER sh_link " + std::to_string(s.sh_link) + " is not a section");
    }
  }
  return obj;
}

}  // namespace

Result<Object> read_object(std::span<const uint8_t> bytes, std::string_view what) {
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end());
  return parse_object(*copy, copy, what);
}

Result<Object> read_object_file(const std::string& path) {
  NR_TRY(auto file, MappedFile::open(path));
  return parse_object(file->bytes(), file, path);
}

Result<std::vector<Note>> parse_notes(const Section& s) {
  std::vector<Note> notes;
  const auto& d = s.data;
  uint64_t off = 0;
  auto align4 = [](uint64_t v) { return (v + 3) & ~uint64_t{3}; };
  while (off < d.size()) {
    if (!in_range(off, 12, d.size())) return Error(Errc::invalid_input, s.name + ": truncated note header at " + hex(off));
    uint32_t namesz = load<uint32_t>(d.data() + off);
    uint32_t descsz = load<uint32_t>(d.data() + off + 4);
    Note n;
    n.type = load<uint32_t>(d.data() + off + 8);
    off += 12;
    if (!in_range(off, align4(namesz), d.size())) return Error(Errc::invalid_input, s.name + ": note name runs past the section");
    if (namesz > 0) n.name.assign(reinterpret_cast<const char*>(d.data() + off), strnlen(reinterpret_cast<const char*>(d.data() + off), namesz));
    off += align4(namesz);
    if (!in_range(off, descsz, d.size())) return Error(Errc::invalid_input, s.name + ": note descriptor runs past the section");
    n.desc.assign(d.data() + off, d.data() + off + descsz);
    off += align4(descsz);
    notes.push_back(std::move(n));
  }
  return notes;
}

}  // namespace noreboot::elf
