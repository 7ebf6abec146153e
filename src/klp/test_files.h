// Test helper shared by the klp tests: writes a small source file, creating its folders.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace noreboot::klp::testing_files {

inline void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace noreboot::klp::testing_files
