// Helpers for the agent's unit tests: temporary folders and synthetic module files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace noreboot::agent::testing {

// A fresh folder under $TMPDIR, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A minimal relocatable ELF64 whose .modinfo holds `name=<name>` (and livepatch=Y when asked)
// plus `extra` bytes of padding in another section, built in memory at test time.
std::string make_module_bytes(const std::string& name, bool livepatch = true,
                              const std::string& extra = "");

}  // namespace noreboot::agent::testing
