// The build's fix record, as the feed reads and amends it.
//
// The builder writes DIR/fix.json + fix.sig, signed with the publisher key. When a kernel's
// bundle fails its QEMU test, the feed must not publish that bundle, and the record must say
// why that kernel has none, or the server would count its hosts as "exposed" to a patch that
// does not exist. So the feed changes that kernel's entry to `refused` with the reason,
// signs the record again with the same key, writes both files atomically (signature last) and
// only then removes the bundle file. Repeating it is harmless, so a run killed in between
// redoes it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/fix_record.h"
#include "core/result.h"

namespace noreboot::feed {

struct BuiltKernel {
  std::string release;
  std::string version;
  std::string file;     // the bundle's file name in DIR
  std::string sha256;
  std::string module;
};

Result<FixRecord> read_record(const std::filesystem::path& dir);
std::vector<BuiltKernel> built_kernels(const FixRecord& record);

Status refuse_kernel(const std::filesystem::path& dir, const std::string& release, const std::string& reason,
                     const std::filesystem::path& publisher_key);

}  // namespace noreboot::feed
