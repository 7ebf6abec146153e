#include "agent/modinfo.h"

#include "core/elf_lite.h"

namespace noreboot::agent {

std::string ModInfo::get(const std::string& key) const {
  auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}

Result<ModInfo> read_modinfo(std::string_view b) {
  auto bad = [](const std::string& why) {
    return Error(Errc::invalid_input, "kernel module: " + why + " (is this a .ko file?)");
  };
  ByteView bytes = as_bytes(b);
  auto file = elf_lite::parse(bytes);
  if (!file) return bad(file.error().message());
  auto section = elf_lite::section_data(bytes, *file, ".modinfo");
  if (!section) return bad("no .modinfo section");
  ModInfo info;
  std::string_view data = as_chars(*section);
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

}  // namespace noreboot::agent
