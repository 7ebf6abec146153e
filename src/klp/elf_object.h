// A small, bounds-checked model of x86-64 ELF64 files for the livepatch step.
//
// Problem: the klp part needs two things from ELF. (1) Read the symbol table of a 600 MB
// debug vmlinux quickly, without copying the file. (2) Edit a relocatable object or a
// linked module (.ko): rename symbols, move relocations between sections, add sections,
// and write the file back with every other byte intact.
//
// Approach: ElfView is a read-only view over bytes (a mapped file or a buffer): it checks
// every offset and size taken from the file before use and reads fields through memcpy, so
// unaligned or truncated input yields an Error, never a wild read. ElfObject copies one
// relocatable file (ET_REL: .o and .ko) into an editable form: sections keep their index,
// symbols keep their index (relocations point at them), and write() lays the file out again
// with fresh .symtab/.strtab/.shstrtab. New sections are appended, never inserted, so no
// index stored in the file (sh_link, sh_info, st_shndx, r_info) changes meaning.
//
// Trade-off: this is deliberately smaller than the differ's general ELF model (src/elf): it
// knows only what the klp conversion needs, and it refuses SHT_GROUP and SHT_SYMTAB_SHNDX
// (extended section indices), which kernel objects and modules do not use.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::klp {

inline constexpr uint16_t kShnLivepatch = 0xff20;         // SHN_LIVEPATCH
inline constexpr uint64_t kShfRelaLivepatch = 0x00100000;  // SHF_RELA_LIVEPATCH

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

struct Section {
  std::string name;
  SectionHeader hdr;           // sh_name, sh_offset and sh_size are recomputed by write()
  std::vector<uint8_t> data;   // empty for SHT_NOBITS (hdr.sh_size then keeps the size)
};

// An editable relocatable file (ET_REL).
class ElfObject {
 public:
  static Result<ElfObject> read_file(const std::string& path);
  static Result<ElfObject> parse(std::span<const uint8_t> bytes, std::string what);

  // Writes atomically (temporary file + rename).
  Status write_file(const std::string& path) const;
  std::vector<uint8_t> serialize() const;

  std::vector<Section> sections;  // index 0 is the null section
  std::vector<Symbol> symbols;    // index 0 is the null symbol
  size_t symtab_index = 0;
  size_t strtab_index = 0;

  size_t find_section(std::string_view name) const;
  // Relocations of a SHT_RELA section, decoded.
  Result<std::vector<Rela>> relas(size_t rela_section) const;
  void set_relas(size_t rela_section, const std::vector<Rela>& relas);
  // Appends a section and returns its index.
  size_t add_section(Section section);
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  uint8_t ident_[16] = {};
  uint16_t e_machine_ = 0;
  uint32_t e_version_ = 0;
  uint32_t e_flags_ = 0;
};

}  // namespace noreboot::klp
