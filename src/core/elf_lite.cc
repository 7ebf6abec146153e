#include "core/elf_lite.h"

#include <cstring>

namespace noreboot::elf_lite {
namespace {

template <typename T>
T load(ByteView b, std::uint64_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;  // little-endian host and file (checked in parse)
}

bool in_range(ByteView b, std::uint64_t off, std::uint64_t len) {
  return off <= b.size() && len <= b.size() - off;
}

Error bad(std::string what) { return Error(Errc::invalid_input, "ELF: " + what); }

}  // namespace

bool is_elf(ByteView b) { return b.size() >= 4 && std::memcmp(b.data(), "\x7f" "ELF", 4) == 0; }

Result<File> parse(ByteView b) {
  if (b.size() < 64 || !is_elf(b)) return bad("not an ELF file (bad magic or shorter than a header)");
  if (b[4] != 2) return bad("not a 64-bit ELF file");
  if (b[5] != 1) return bad("not a little-endian ELF file");
  File f;
  f.machine = load<std::uint16_t>(b, 18);
  auto phoff = load<std::uint64_t>(b, 32);
  auto shoff = load<std::uint64_t>(b, 40);
  auto phentsize = load<std::uint16_t>(b, 54);
  auto phnum = load<std::uint16_t>(b, 56);
  auto shentsize = load<std::uint16_t>(b, 58);
  std::uint64_t shnum = load<std::uint16_t>(b, 60);
  std::uint32_t shstrndx = load<std::uint16_t>(b, 62);

  if (phnum > 0) {
    if (phentsize < 56 || !in_range(b, phoff, std::uint64_t{phentsize} * phnum))
      return bad("program headers lie outside the file");
    for (std::uint64_t i = 0; i < phnum; ++i) {
      std::uint64_t p = phoff + i * phentsize;
      Segment s{load<std::uint32_t>(b, p), load<std::uint64_t>(b, p + 8), load<std::uint64_t>(b, p + 32)};
      if (!in_range(b, s.offset, s.filesz)) return bad("segment " + std::to_string(i) + " lies outside the file");
      f.segments.push_back(s);
    }
  }
  if (shoff != 0) {
    if (shentsize < 64 || !in_range(b, shoff, 64)) return bad("section headers lie outside the file");
    // Extended numbering: real count and string table index live in section 0.
    if (shnum == 0) shnum = load<std::uint64_t>(b, shoff + 32);
    if (shstrndx == 0xffff) shstrndx = load<std::uint32_t>(b, shoff + 40);
    if (shnum > 1'000'000 || !in_range(b, shoff, shnum * shentsize))
      return bad("section headers lie outside the file");
    std::vector<std::uint32_t> name_offsets;
    for (std::uint64_t i = 0; i < shnum; ++i) {
      std::uint64_t p = shoff + i * shentsize;
      Section s;
      name_offsets.push_back(load<std::uint32_t>(b, p));
      s.type = load<std::uint32_t>(b, p + 4);
      s.offset = load<std::uint64_t>(b, p + 24);
      s.size = load<std::uint64_t>(b, p + 32);
      f.sections.push_back(s);
    }
    if (shstrndx < f.sections.size()) {
      const Section& strtab = f.sections[shstrndx];
      if (strtab.type != kShtNobits && in_range(b, strtab.offset, strtab.size)) {
        for (size_t i = 0; i < f.sections.size(); ++i) {
          std::uint64_t off = name_offsets[i];
          if (off >= strtab.size) continue;
          auto start = reinterpret_cast<const char*>(b.data() + strtab.offset + off);
          f.sections[i].name.assign(start, strnlen(start, strtab.size - off));
        }
      }
    }
    // Checked once the names are known, so the error names the section (".modinfo past end").
    for (size_t i = 0; i < f.sections.size(); ++i) {
      const Section& s = f.sections[i];
      if (s.type != kShtNobits && s.type != 0 && !in_range(b, s.offset, s.size))
        return bad((s.name.empty() ? "section" : s.name) + " past end of file (section " + std::to_string(i) + ")");
    }
  }
  return f;
}

std::optional<ByteView> section_data(ByteView b, const File& f, std::string_view name) {
  for (const auto& s : f.sections)
    if (s.name == name && s.type != kShtNobits) return b.subspan(s.offset, s.size);
  return std::nullopt;
}

Result<std::vector<Note>> parse_notes(ByteView s) {
  std::vector<Note> notes;
  std::uint64_t pos = 0;
  auto pad4 = [](std::uint64_t v) { return (v + 3) & ~std::uint64_t{3}; };
  while (pos < s.size()) {
    if (s.size() - pos < 12) {
      // Trailing zero padding is harmless; anything else is a truncated header.
      bool zeros = true;
      for (auto i = pos; i < s.size(); ++i) zeros = zeros && s[i] == 0;
      if (zeros) break;
      return Error(Errc::invalid_input, "ELF notes: truncated note header at offset " + std::to_string(pos));
    }
    auto namesz = load<std::uint32_t>(s, pos);
    auto descsz = load<std::uint32_t>(s, pos + 4);
    auto type = load<std::uint32_t>(s, pos + 8);
    pos += 12;
    if (pad4(namesz) > s.size() - pos)
      return Error(Errc::invalid_input, "ELF notes: note name runs past the end at offset " + std::to_string(pos));
    Note n;
    n.type = type;
    auto name = reinterpret_cast<const char*>(s.data() + pos);
    n.name.assign(name, strnlen(name, namesz));
    pos += pad4(namesz);
    if (descsz > s.size() - pos)
      return Error(Errc::invalid_input, "ELF notes: note '" + n.name + "' data runs past the end");
    n.desc = s.subspan(pos, descsz);
    pos += std::min<std::uint64_t>(pad4(descsz), s.size() - pos);
    notes.push_back(n);
  }
  return notes;
}

std::string machine_name(std::uint16_t machine) {
  switch (machine) {
    case 62: return "x86_64";
    case 183: return "aarch64";
    case 3: return "i386";
    case 22: return "s390x";
    case 21: return "ppc64";
    case 243: return "riscv64";
    default: return "";
  }
}

}  // namespace noreboot::elf_lite
