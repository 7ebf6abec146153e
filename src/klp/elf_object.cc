// See elf_object.h. Every field is read with memcpy at a checked offset.
#include "klp/elf_object.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

namespace noreboot::klp {
namespace {

template <typename T>
T load(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void store(std::vector<uint8_t>& out, size_t offset, const T& value) {
  std::memcpy(out.data() + offset, &value, sizeof(T));
}

bool in_range(size_t total, uint64_t offset, uint64_t size) {
  return offset <= total && size <= total - offset;
}

Error bad(const std::string& what, const std::string& msg) {
  return Error(Errc::invalid_input, what + ": " + msg);
}

}  // namespace

Result<ElfView> ElfView::parse(std::span<const uint8_t> bytes, std::string what) {
  ElfView view;
  view.bytes_ = bytes;
  view.what_ = std::move(what);
  if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
    return bad(view.what_, "not an ELF file");
  auto eh = load<Elf64_Ehdr>(bytes, 0);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return bad(view.what_, "not a little-endian ELF64 file");
  if (eh.e_machine != EM_X86_64) return bad(view.what_, "not an x86-64 ELF file");
  if (eh.e_shentsize != sizeof(Elf64_Shdr))
    return bad(view.what_, "unexpected section header size " + std::to_string(eh.e_shentsize));
  uint64_t shnum = eh.e_shnum;
  if (shnum == 0 && eh.e_shoff != 0) {
    if (!in_range(bytes.size(), eh.e_shoff, sizeof(Elf64_Shdr)))
      return bad(view.what_, "section header table out of range");
    shnum = load<Elf64_Shdr>(bytes, eh.e_shoff).sh_size;  // extended numbering
  }
  if (!in_range(bytes.size(), eh.e_shoff, shnum * sizeof(Elf64_Shdr)))
    return bad(view.what_, "section header table out of range");
  view.e_type_ = eh.e_type;
  view.headers_.reserve(shnum);
  for (uint64_t i = 0; i < shnum; ++i) {
    auto s = load<Elf64_Shdr>(bytes, eh.e_shoff + i * sizeof(Elf64_Shdr));
    SectionHeader h{s.sh_name, s.sh_type, s.sh_flags, s.sh_addr, s.sh_offset, s.sh_size,
                    s.sh_link, s.sh_info, s.sh_addralign, s.sh_entsize};
    if (h.sh_type != SHT_NOBITS && h.sh_type != SHT_NULL && !in_range(bytes.size(), h.sh_offset, h.sh_size))
      return bad(view.what_, "section " + std::to_string(i) + " lies outside the file");
    if (h.sh_type == SHT_SYMTAB_SHNDX)
      return bad(view.what_, "extended section indices (SHT_SYMTAB_SHNDX) are not supported");
    view.headers_.push_back(h);
  }
  uint32_t shstrndx = eh.e_shstrndx;
  if (shstrndx == SHN_XINDEX && shnum > 0) shstrndx = view.headers_[0].sh_link;
  if (shstrndx >= shnum) return bad(view.what_, "no section name table");
  view.shstrndx_ = static_cast<uint16_t>(shstrndx);
  return view;
}

Result<std::string_view> ElfView::string_at(size_t strtab, uint32_t offset) const {
  if (strtab >= headers_.size()) return bad(what_, "string table index out of range");
  auto b = section_bytes(strtab);
  if (offset >= b.size()) return bad(what_, "string offset out of range");
  auto* start = reinterpret_cast<const char*>(b.data()) + offset;
  auto* end = static_cast<const char*>(std::memchr(start, 0, b.size() - offset));
  if (end == nullptr) return bad(what_, "unterminated string in string table");
  return std::string_view(start, static_cast<size_t>(end - start));
}

std::string_view ElfView::section_name(size_t index) const {
  if (index >= headers_.size()) return {};
  auto name = string_at(shstrndx_, headers_[index].sh_name);
  return name ? *name : std::string_view{};
}

std::span<const uint8_t> ElfView::section_bytes(size_t index) const {
  const auto& h = headers_[index];
  if (h.sh_type == SHT_NOBITS || h.sh_type == SHT_NULL) return {};
  return bytes_.subspan(h.sh_offset, h.sh_size);
}

size_t ElfView::find_section_type(uint32_t sh_type) const {
  for (size_t i = 1; i < headers_.size(); ++i)
    if (headers_[i].sh_type == sh_type) return i;
  return 0;
}

size_t ElfView::find_section(std::string_view name) const {
  for (size_t i = 1; i < headers_.size(); ++i)
    if (section_name(i) == name) return i;
  return 0;
}

Result<std::vector<Symbol>> ElfView::symbols() const {
  size_t symtab = find_section_type(SHT_SYMTAB);
  if (symtab == 0) return Error(Errc::not_found, what_ + ": no symbol table (.symtab); was it stripped?");
  const auto& h = headers_[symtab];
  if (h.sh_entsize != sizeof(Elf64_Sym)) return bad(what_, "unexpected symbol size");
  auto b = section_bytes(symtab);
  size_t n = b.size() / sizeof(Elf64_Sym);
  std::vector<Symbol> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto s = load<Elf64_Sym>(b, i * sizeof(Elf64_Sym));
    Symbol sym;
    NR_TRY(auto name, string_at(h.sh_link, s.st_name));
    sym.name = std::string(name);
    sym.st_info = s.st_info;
    sym.st_other = s.st_other;
    sym.st_shndx = s.st_shndx;
    sym.st_value = s.st_value;
    sym.st_size = s.st_size;
    out.push_back(std::move(sym));
  }
  return out;
}

Result<std::vector<Rela>> ElfView::relas(size_t rela_section) const {
  if (rela_section >= headers_.size() || headers_[rela_section].sh_type != SHT_RELA)
    return bad(what_, "section " + std::to_string(rela_section) + " is not SHT_RELA");
  auto b = section_bytes(rela_section);
  std::vector<Rela> out;
  for (size_t off = 0; off + sizeof(Elf64_Rela) <= b.size(); off += sizeof(Elf64_Rela)) {
    auto r = load<Elf64_Rela>(b, off);
    out.push_back({r.r_offset, static_cast<uint32_t>(ELF64_R_SYM(r.r_info)),
                   static_cast<uint32_t>(ELF64_R_TYPE(r.r_info)), r.r_addend});
  }
  return out;
}

// ---- MappedFile ----

Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Errc::io, path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    return Error(Errc::io, path + ": cannot stat or empty");
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return Error(Errc::io, path + ": mmap: " + std::strerror(errno));
  MappedFile m;
  m.data_ = static_cast<const uint8_t*>(p);
  m.size_ = static_cast<size_t>(st.st_size);
  return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

// ---- ElfObject ----

Result<ElfObject> ElfObject::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::not_found, path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(bytes, path);
}

Result<ElfObject> ElfObject::parse(std::span<const uint8_t> bytes, std::string what) {
  NR_TRY(auto view, ElfView::parse(bytes, what));
  if (view.type() != ET_REL)
    return bad(what, "not a relocatable object or module (ET_REL)");
  ElfObject obj;
  obj.what_ = what;
  std::memcpy(obj.ident_, bytes.data(), 16);
  auto eh = load<Elf64_Ehdr>(bytes, 0);
  obj.e_machine_ = eh.e_machine;
  obj.e_version_ = eh.e_version;
  obj.e_flags_ = eh.e_flags;
  for (size_t i = 0; i < view.section_count(); ++i) {
    Section s;
    s.name = std::string(view.section_name(i));
    s.hdr = view.header(i);
    if (s.hdr.sh_type == SHT_GROUP)
      return bad(what, "section groups (SHT_GROUP, " + s.name + ") are not supported");
    auto b = view.section_bytes(i);
    s.data.assign(b.begin(), b.end());
    obj.sections.push_back(std::move(s));
  }
  obj.symtab_index = view.find_section_type(SHT_SYMTAB);
  if (obj.symtab_index == 0) return bad(what, "no symbol table");
  obj.strtab_index = obj.sections[obj.symtab_index].hdr.sh_link;
  if (obj.strtab_index == 0 || obj.strtab_index >= obj.sections.size())
    return bad(what, "symbol table has no string table");
  NR_TRY(obj.symbols, view.symbols());
  for (size_t i = 1; i < obj.sections.size(); ++i) {
    const auto& h = obj.sections[i].hdr;
    if (h.sh_type == SHT_RELA && (h.sh_link != obj.symtab_index || h.sh_info >= obj.sections.size()))
      return bad(what, "relocation section " + obj.sections[i].name + " has a bad sh_link/sh_info");
    if (h.sh_type == SHT_RELA) {
      NR_TRY(auto rs, view.relas(i));
      for (const auto& r : rs)
        if (r.sym >= obj.symbols.size())
          return bad(what, "relocation in " + obj.sections[i].name + " names symbol " + std::to_string(r.sym) +
                               " beyond the symbol table");
    }
  }
  return obj;
}

size_t ElfObject::find_section(std::string_view name) const {
  for (size_t i = 1; i < sections.size(); ++i)
    if (sections[i].name == name) return i;
  return 0;
}

Result<std::vector<Rela>> ElfObject::relas(size_t rela_section) const {
  if (rela_section >= sections.size() || sections[rela_section].hdr.sh_type != SHT_RELA)
    return bad(what_, "section " + std::to_string(rela_section) + " is not SHT_RELA");
  const auto& d = sections[rela_section].data;
  std::span<const uint8_t> b(d);
  std::vector<Rela> out;
  for (size_t off = 0; off + sizeof(Elf64_Rela) <= b.size(); off += sizeof(Elf64_Rela)) {
    auto r = load<Elf64_Rela>(b, off);
    out.push_back({r.r_offset, static_cast<uint32_t>(ELF64_R_SYM(r.r_info)),
                   static_cast<uint32_t>(ELF64_R_TYPE(r.r_info)), r.r_addend});
  }
  return out;
}

void ElfObject::set_relas(size_t rela_section, const std::vector<Rela>& rs) {
  auto& d = sections[rela_section].data;
  d.assign(rs.size() * sizeof(Elf64_Rela), 0);
  for (size_t i = 0; i < rs.size(); ++i) {
    Elf64_Rela r{rs[i].r_offset, ELF64_R_INFO(static_cast<uint64_t>(rs[i].sym), rs[i].type), rs[i].r_addend};
    store(d, i * sizeof(Elf64_Rela), r);
  }
  sections[rela_section].hdr.sh_size = d.size();
  sections[rela_section].hdr.sh_entsize = sizeof(Elf64_Rela);
}

size_t ElfObject::add_section(Section section) {
  sections.push_back(std::move(section));
  return sections.size() - 1;
}

std::vector<uint8_t> ElfObject::serialize() const {
  // String tables are rebuilt from the models. Each name is stored once (no suffix sharing).
  auto add_string = [](std::vector<uint8_t>& tab, std::map<std::string, uint32_t>& seen,
                       const std::string& s) -> uint32_t {
    if (s.empty()) return 0;
    auto it = seen.find(s);
    if (it != seen.end()) return it->second;
    auto off = static_cast<uint32_t>(tab.size());
    tab.insert(tab.end(), s.begin(), s.end());
    tab.push_back(0);
    seen.emplace(s, off);
    return off;
  };
  std::vector<Section> secs = sections;
  size_t shstrndx = 0;
  for (size_t i = 1; i < secs.size(); ++i)
    if (secs[i].hdr.sh_type == SHT_STRTAB && secs[i].name == ".shstrtab") shstrndx = i;

  std::vector<uint8_t> strtab{0};
  std::map<std::string, uint32_t> str_seen;
  std::vector<uint8_t> symtab(symbols.size() * sizeof(Elf64_Sym), 0);
  uint32_t first_global = static_cast<uint32_t>(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    const auto& s = symbols[i];
    if (s.bind() != STB_LOCAL && first_global == symbols.size()) first_global = static_cast<uint32_t>(i);
    Elf64_Sym out{};
    out.st_name = i == 0 ? 0 : add_string(strtab, str_seen, s.name);
    out.st_info = s.st_info;
    out.st_other = s.st_other;
    out.st_shndx = s.st_shndx;
    out.st_value = s.st_value;
    out.st_size = s.st_size;
    store(symtab, i * sizeof(Elf64_Sym), out);
  }
  secs[symtab_index].data = std::move(symtab);
  secs[symtab_index].hdr.sh_info = first_global;
  secs[symtab_index].hdr.sh_entsize = sizeof(Elf64_Sym);
  secs[strtab_index].data = std::move(strtab);

  std::vector<uint8_t> shstrtab{0};
  std::map<std::string, uint32_t> sh_seen;
  for (size_t i = 1; i < secs.size(); ++i) secs[i].hdr.sh_name = add_string(shstrtab, sh_seen, secs[i].name);
  if (shstrndx != 0) secs[shstrndx].data = std::move(shstrtab);

  std::vector<uint8_t> out(sizeof(Elf64_Ehdr), 0);
  for (size_t i = 1; i < secs.size(); ++i) {
    auto& s = secs[i];
    if (s.hdr.sh_type == SHT_NOBITS) {
      s.hdr.sh_offset = out.size();
      continue;
    }
    uint64_t align = s.hdr.sh_addralign > 1 ? s.hdr.sh_addralign : 1;
    out.resize((out.size() + align - 1) / align * align, 0);
    s.hdr.sh_offset = out.size();
    s.hdr.sh_size = s.data.size();
    out.insert(out.end(), s.data.begin(), s.data.end());
  }
  out.resize((out.size() + 7) / 8 * 8, 0);
  uint64_t shoff = out.size();
  out.resize(out.size() + secs.size() * sizeof(Elf64_Shdr), 0);
  for (size_t i = 0; i < secs.size(); ++i) {
    const auto& h = secs[i].hdr;
    Elf64_Shdr sh{i == 0 ? 0 : h.sh_name, h.sh_type, h.sh_flags, h.sh_addr, i == 0 ? 0 : h.sh_offset,
                  i == 0 ? 0 : h.sh_size, h.sh_link, h.sh_info, h.sh_addralign, h.sh_entsize};
    store(out, shoff + i * sizeof(Elf64_Shdr), sh);
  }
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ident_, 16);
  eh.e_type = ET_REL;
  eh.e_machine = e_machine_;
  eh.e_version = e_version_;
  eh.e_flags = e_flags_;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<uint16_t>(secs.size());
  eh.e_shstrndx = static_cast<uint16_t>(shstrndx);
  eh.e_shoff = shoff;
  store(out, 0, eh);
  return out;
}

Status ElfObject::write_file(const std::string& path) const {
  auto bytes = serialize();
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(Errc::io, tmp + ": cannot create");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) return Error(Errc::io, tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Errc::io, path + ": rename failed: " + std::strerror(errno));
  }
  return ok_status();
}

}  // namespace noreboot::klp
