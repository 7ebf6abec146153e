// Test helpers shared by the klp tests: write a small source file (creating its folders); the
// relocations of one section by symbol name.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "elf/object.h"

namespace noreboot::klp::testing_files {

inline void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

inline std::map<std::string, elf::Relocation> relas_by_symbol(const elf::Object& o, const std::string& section) {
  std::map<std::string, elf::Relocation> out;
  uint32_t s = o.find_section(section);
  if (s == 0) return out;
  for (const auto& r : o.sections[s].relocs) out[o.symbols[r.r_sym].name] = r;
  return out;
}

}  // namespace noreboot::klp::testing_files
