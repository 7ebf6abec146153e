// Which cached Debian kernel a `kernel`-tier test reads (test-only, header-only).
//
// The tests that read a real kernel's files (its image, headers, shipped modules, symbol index)
// used to skip when the cache was empty, so a fresh machine's run passed without testing them.
// Now they carry the ctest label `kernel` (outside `unit`) and FAIL without the cache, naming
// what is missing and how to prepare it. The ABI is never written into a test: $NR_ABI when
// set, else the newest kernel of the cache (version order) that holds the file the test needs.
// scripts/test prepares the cache before it runs the tiers.
#pragma once

#include <string.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace noreboot::testing {

// $NOREBOOT_CACHE/kernels, else ~/.cache/noreboot/kernels (as scripts/kernel-fetch).
inline std::filesystem::path kernel_cache_dir() {
  if (const char* c = std::getenv("NOREBOOT_CACHE"); c && *c) return std::filesystem::path(c) / "kernels";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/root") / ".cache/noreboot/kernels";
}

// $NR_ABI, else the newest ABI whose cache folder holds `needs` (a path relative to it, where
// "ABI" is replaced by the ABI); "" when no kernel has it.
inline std::string cached_kernel_abi(const std::string& needs) {
  if (const char* abi = std::getenv("NR_ABI"); abi && *abi) return abi;
  std::vector<std::string> have;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kernel_cache_dir(), ec)) {
    std::string abi = e.path().filename().string();
    std::string rel = needs;
    for (size_t at = rel.find("ABI"); at != std::string::npos; at = rel.find("ABI", at + abi.size()))
      rel.replace(at, 3, abi);
    if (std::filesystem::exists(e.path() / rel, ec)) have.push_back(abi);
  }
  std::sort(have.begin(), have.end(),
            [](const std::string& a, const std::string& b) { return ::strverscmp(a.c_str(), b.c_str()) < 0; });
  return have.empty() ? "" : have.back();
}

// Why a kernel-tier test cannot run, and what to do.
inline std::string no_cached_kernel(const std::string& needs) {
  return "no kernel in " + kernel_cache_dir().string() + " has " + needs +
         ": the kernel tier reads a cached Debian kernel; prepare one with "
         "`eval \"$(scripts/kernel-fetch --dbg)\" && build/src/klp/noreboot-klp index --abi $NR_ABI` "
         "(scripts/test does this before the tiers), or name one with NR_ABI=ABI";
}

}  // namespace noreboot::testing
