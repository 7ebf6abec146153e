// ELF64 constants and little-endian integer access for the ELF model.
//
// Problem: object files come from outside (a compiler, a download, a fuzzer). Casting their
// bytes to structs is undefined behaviour when the bytes are unaligned and silently wrong when
// the file is short. Approach: every multi-byte field is read and written through memcpy-based
// helpers on a byte span whose bounds were checked first; structures keep the spec's field
// names (st_shndx, r_addend, ...) so readelf output and the spec map one to one.
// Trade-off: little-endian ELF64 only (x86-64, arm64 in LE mode); a big-endian target would add
// byte swapping here and nowhere else.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace noreboot::elf {

// File header (e_ident and e_type/e_machine values we use).
inline constexpr uint8_t kElfMag[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr uint8_t ELFCLASS64 = 2;
inline constexpr uint8_t ELFDATA2LSB = 1;
inline constexpr uint8_t EV_CURRENT = 1;
inline constexpr uint16_t ET_REL = 1;
inline constexpr uint16_t EM_X86_64 = 62;
inline constexpr size_t kEhdrSize = 64;
inline constexpr size_t kShdrSize = 64;
inline constexpr size_t kSymSize = 24;
inline constexpr size_t kRelaSize = 24;

// Section types.
inline constexpr uint32_t SHT_NULL = 0;
inline constexpr uint32_t SHT_PROGBITS = 1;
inline constexpr uint32_t SHT_SYMTAB = 2;
inline constexpr uint32_t SHT_STRTAB = 3;
inline constexpr uint32_t SHT_RELA = 4;
inline constexpr uint32_t SHT_NOTE = 7;
inline constexpr uint32_t SHT_NOBITS = 8;
inline constexpr uint32_t SHT_REL = 9;
inline constexpr uint32_t SHT_GROUP = 17;
inline constexpr uint32_t SHT_SYMTAB_SHNDX = 18;

// Section flags.
inline constexpr uint64_t SHF_WRITE = 0x1;
inline constexpr uint64_t SHF_ALLOC = 0x2;
inline constexpr uint64_t SHF_EXECINSTR = 0x4;
inline constexpr uint64_t SHF_MERGE = 0x10;
inline constexpr uint64_t SHF_STRINGS = 0x20;
inline constexpr uint64_t SHF_INFO_LINK = 0x40;
inline constexpr uint64_t SHF_LINK_ORDER = 0x80;
inline constexpr uint64_t SHF_GROUP = 0x200;
// Linux livepatch: a RELA section the livepatch core applies (Documentation/livepatch/
// module-elf-format.rst), with sh_info naming the section it patches.
inline constexpr uint64_t SHF_RELA_LIVEPATCH = 0x00100000;

// Special section indices.
inline constexpr uint16_t SHN_UNDEF = 0;
inline constexpr uint16_t SHN_LORESERVE = 0xff00;
inline constexpr uint16_t SHN_LIVEPATCH = 0xff20;  // symbol resolved by the livepatch core
inline constexpr uint16_t SHN_ABS = 0xfff1;
inline constexpr uint16_t SHN_COMMON = 0xfff2;
inline constexpr uint16_t SHN_XINDEX = 0xffff;

// Symbol binding and type (st_info = bind << 4 | type).
inline constexpr uint8_t STB_LOCAL = 0;
inline constexpr uint8_t STB_GLOBAL = 1;
inline constexpr uint8_t STB_WEAK = 2;
inline constexpr uint8_t STT_NOTYPE = 0;
inline constexpr uint8_t STT_OBJECT = 1;
inline constexpr uint8_t STT_FUNC = 2;
inline constexpr uint8_t STT_SECTION = 3;
inline constexpr uint8_t STT_FILE = 4;
inline constexpr uint8_t STT_TLS = 6;

inline constexpr uint8_t st_bind(uint8_t info) { return info >> 4; }
inline constexpr uint8_t st_type(uint8_t info) { return info & 0xf; }
inline constexpr uint8_t st_info(uint8_t bind, uint8_t type) {
  return static_cast<uint8_t>((bind << 4) | (type & 0xf));
}
// The words the differ's JSON and its .noreboot.refs text use for a binding and a type.
inline constexpr const char* bind_name(uint8_t bind) {
  return bind == STB_LOCAL ? "local" : bind == STB_WEAK ? "weak" : "global";
}
inline constexpr const char* type_name(uint8_t type) {
  return type == STT_FUNC ? "func" : type == STT_OBJECT ? "object" : type == STT_TLS ? "tls" : "notype";
}

// Reads/writes a little-endian integer at p. The caller has checked that p..p+sizeof(T) is in
// range; memcpy makes unaligned access well defined. Host is little-endian (x86-64 / arm64).
template <typename T>
inline T load(const uint8_t* p) {
  static_assert(std::is_integral_v<T>);
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void store(uint8_t* p, T v) {
  static_assert(std::is_integral_v<T>);
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace noreboot::elf
