// What Debian's archive serves: the linux-source versions (apt-cache madison) and the kernel
// ABIs with their versions (kernel-fetch --list).
//
// The feed works in Debian versions (6.1.192-3: what changed) and builds for ABIs
// (6.1.0-57-amd64: what hosts run); kernel-fetch --list is the one place that maps one to the
// other. Parsing is here, separate from running the programs, so it is unit-tested on text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::feed {

// The versions of `package` in `apt-cache madison PACKAGE` output ("pkg | version | source"),
// oldest first, unique. Lines of other packages and malformed lines are skipped.
std::vector<std::string> parse_madison(std::string_view text, std::string_view package);

struct ArchiveKernel {
  std::string abi;       // 6.1.0-57-amd64
  std::string version;   // 6.1.192-3
  bool complete = false; // everything a build needs is served
};
// kernel-fetch --list: "ABI VERSION complete|incomplete [missing: ...]" per line.
std::vector<ArchiveKernel> parse_kernel_list(std::string_view text);

// The versions of `served` (sorted) newer than `after`, oldest first.
std::vector<std::string> versions_after(const std::vector<std::string>& served, const std::string& after);
// The version just before `version` in `served`, or "" when it is the oldest or not served.
std::string version_before(const std::vector<std::string>& served, const std::string& version);

// fnmatch-style glob on kernel releases ("6.1.0-*-amd64"); empty globs match everything.
bool kernel_selected(const std::vector<std::string>& globs, const std::string& release);

}  // namespace noreboot::feed
