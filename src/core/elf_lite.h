// The few ELF facts core needs, read safely: section and program headers of an ELF64
// little-endian file, the contents of a named section, and ELF note streams.
//
// Core must not depend on src/elf (the differ's full object model), and needs only this: the
// build ID of a kernel image (its notes) and one string of a module's .modinfo. Every field is
// read through memcpy from a bounds-checked offset, so truncated or hostile files give an error,
// never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot::elf_lite {

struct Section {
  std::string name;
  std::uint32_t type = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct Segment {
  std::uint32_t type = 0;
  std::uint64_t offset = 0;
  std::uint64_t filesz = 0;
};

struct File {
  std::uint16_t machine = 0;
  std::vector<Section> sections;
  std::vector<Segment> segments;
};

inline constexpr std::uint32_t kShtNobits = 8;
inline constexpr std::uint32_t kShtNote = 7;
inline constexpr std::uint32_t kPtNote = 4;

bool is_elf(ByteView bytes);
// Parses headers; section/segment contents are checked to lie inside `bytes` (SHT_NOBITS aside).
Result<File> parse(ByteView bytes);
std::optional<ByteView> section_data(ByteView bytes, const File& file, std::string_view name);

struct Note {
  std::string name;  // owner, without the terminating NUL
  std::uint32_t type = 0;
  ByteView desc;
};
// Parses a note stream: Elf64_Nhdr {namesz, descsz, type} + name + desc, each padded to 4.
Result<std::vector<Note>> parse_notes(ByteView stream);

// "x86_64" for EM_X86_64, "aarch64", ... ; empty for unknown machines.
std::string machine_name(std::uint16_t machine);

}  // namespace noreboot::elf_lite
