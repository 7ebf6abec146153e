#include "agent/modinfo.h"

#include <cstdint>
#include <cstring>

namespace noreboot::agent {

namespace {

template <typename T>
bool load(std::string_view bytes, uint64_t off, T& out) {
  if (off > bytes.size() || bytes.size() - off < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + off, sizeof(T));
  return true;
}

}  // namespace

std::string ModInfo::get(const std::string& key) const {
  auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}

Result<ModInfo> read_modinfo(std::string_view b) {
  auto bad = [](const std::string& why) {
    return Error(Errc::invalid_input, "kernel module: " + why + " (is this a .ko file?)");
  };
  if (b.size() < 64 || std::memcmp(b.data(), "\x7f" "ELF", 4) != 0) return bad("not an ELF file");
  if (b[4] != 2 || b[5] != 1) return bad("not a 64-bit little-endian ELF file");
  uint64_t shoff = 0;
  uint16_t shentsize = 0, shnum = 0, shstrndx = 0;
  if (!load(b, 0x28, shoff) || !load(b, 0x3a, shentsize) || !load(b, 0x3c, shnum) ||
      !load(b, 0x3e, shstrndx))
    return bad("truncated ELF header");
  if (shentsize != 64) return bad("unexpected section header size " + std::to_string(shentsize));
  if (shnum == 0 || shstrndx >= shnum) return bad("no section name table");
  if (shoff > b.size() || (b.size() - shoff) / 64 < shnum) return bad("section headers past end of file");

  struct Sec { uint32_t name; uint32_t type; uint64_t offset; uint64_t size; };
  auto section = [&](uint16_t i) {
    Sec s{};
    uint64_t h = shoff + uint64_t{i} * 64;
    load(b, h + 0, s.name);
    load(b, h + 4, s.type);
    load(b, h + 0x18, s.offset);
    load(b, h + 0x20, s.size);
    return s;
  };
  auto in_file = [&](const Sec& s) {
    return s.type == 8 /* SHT_NOBITS */ || (s.offset <= b.size() && s.size <= b.size() - s.offset);
  };
  Sec strtab = section(shstrndx);
  if (!in_file(strtab)) return bad("section name table past end of file");
  std::string_view names = b.substr(strtab.offset, strtab.size);

  for (uint16_t i = 0; i < shnum; ++i) {
    Sec s = section(i);
    if (s.name >= names.size()) continue;
    std::string_view nm = names.substr(s.name);
    nm = nm.substr(0, nm.find('\0'));
    if (nm != ".modinfo") continue;
    if (!in_file(s) || s.type == 8) return bad(".modinfo past end of file");
    ModInfo info;
    std::string_view data = b.substr(s.offset, s.size);
    while (!data.empty()) {
      size_t end = data.find('\0');
      std::string_view entry = data.substr(0, end);
      auto eq = entry.find('=');
      if (eq != std::string_view::npos && eq > 0)
        info.fields.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
      if (end == std::string_view::npos) break;
      data = data.substr(end + 1);
    }
    return info;
  }
  return bad("no .modinfo section");
}

}  // namespace noreboot::agent
