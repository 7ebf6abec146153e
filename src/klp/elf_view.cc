// See elf_view.h. Every field is read with memcpy at a checked offset.
#include "klp/elf_view.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace noreboot::klp {
namespace {

template <typename T>
T load(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
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

}  // namespace noreboot::klp
