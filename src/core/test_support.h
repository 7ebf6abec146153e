// Helpers shared by core's unit tests: temporary folders and hand-made tar headers.
#pragma once

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "core/bytes.h"

namespace noreboot::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "noreboot-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Recomputes the ustar header checksum of the 512-byte header at `offset`.
inline void fix_tar_checksum(Bytes& archive, size_t offset) {
  std::memset(archive.data() + offset + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += archive[offset + i];
  std::snprintf(reinterpret_cast<char*>(archive.data() + offset + 148), 8, "%06o", sum);
  archive[offset + 155] = ' ';
}

}  // namespace noreboot::testing
