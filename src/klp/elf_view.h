// A read-only, zero-copy view of an ELF64 x86-64 file's section headers and symbol table.
//
// Problem: the symbol index reads the symbol table of the 630 MB debug vmlinux (an
// executable, ET_EXEC) and of shipped modules. The project's ELF model (src/elf) is for
// editing relocatable objects: it decodes and copies everything, and accepts ET_REL only.
//
// Approach: ElfView sits on a mapped file (MappedFile) and decodes only what is asked for
// (section headers at parse time, then .symtab); every offset and size taken from the file is
// checked before use and fields are read through memcpy, so unaligned or truncated input is
// an Error, never a wild read. Editing objects and modules is src/elf's job (klp_convert).
//
// Trade-off: a second, tiny ELF reader beside src/elf, limited to what a 600 MB executable
// needs: it never copies the file (the index is built in ~0.6 s) and never writes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::klp {

struct SectionHeader {
  uint32_t sh_name = 0;
  uint32_t sh_type = 0;
  uint64_t sh_flags = 0;
  uint64_t sh_addr = 0;
  uint64_t sh_offset = 0;
  uint64_t sh_size = 0;
  uint32_t sh_link = 0;
  uint32_t sh_info = 0;
  uint64_t sh_addralign = 0;
  uint64_t sh_entsize = 0;
};

struct Symbol {
  std::string name;
  uint8_t st_info = 0;
  uint8_t st_other = 0;
  uint16_t st_shndx = 0;
  uint64_t st_value = 0;
  uint64_t st_size = 0;
  uint8_t bind() const { return st_info >> 4; }
  uint8_t type() const { return st_info & 0xf; }
  void set_info(uint8_t bind, uint8_t type) { st_info = static_cast<uint8_t>((bind << 4) | (type & 0xf)); }
};

struct Rela {
  uint64_t r_offset = 0;
  uint32_t sym = 0;
  uint32_t type = 0;
  int64_t r_addend = 0;
};

// Read-only view. The bytes must outlive the view.
class ElfView {
 public:
  // Checks the ELF header (ELF64, little endian, x86-64) and the section header table.
  static Result<ElfView> parse(std::span<const uint8_t> bytes, std::string what);

  uint16_t type() const { return e_type_; }
  size_t section_count() const { return headers_.size(); }
  const SectionHeader& header(size_t index) const { return headers_[index]; }
  // Section name from .shstrtab ("" when out of range).
  std::string_view section_name(size_t index) const;
  // Bytes of a section (empty for SHT_NOBITS); range-checked at parse time.
  std::span<const uint8_t> section_bytes(size_t index) const;
  // Index of the first section with that type, or 0.
  size_t find_section_type(uint32_t sh_type) const;
  size_t find_section(std::string_view name) const;

  // Symbols of .symtab (index 0 included, as in the file).
  Result<std::vector<Symbol>> symbols() const;
  Result<std::vector<Rela>> relas(size_t rela_section) const;
  const std::string& what() const { return what_; }

 private:
  Result<std::string_view> string_at(size_t strtab, uint32_t offset) const;

  std::span<const uint8_t> bytes_;
  std::string what_;
  uint16_t e_type_ = 0;
  uint16_t shstrndx_ = 0;
  std::vector<SectionHeader> headers_;
};

// A read-only file mapping (for the big debug vmlinux).
class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace noreboot::klp
