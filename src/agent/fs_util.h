// Small file helpers for the agent: sysfs-style reads and writes, folder listing.
//
// The agent's state must survive being killed at any instruction. Every state file is
// therefore written with core's atomic write_text (core/file_io.h: a temporary name in the same
// folder, fsync, rename over the old one, fsync of the folder), so a reader sees either the old
// or the new content, never half of one; whole files are read with core's read_text. What is
// left here is the agent's own: kernel attribute files. Errors name the path and what the
// operating system said.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_io.h"  // read_text, write_text: the callers of these helpers use both
#include "core/result.h"

namespace noreboot::agent {

// The first line of a small sysfs/procfs-style file, without the trailing newline/space.
Result<std::string> read_trimmed(const std::filesystem::path& path);
// Writes `text` into an existing file (sysfs attribute style: open O_WRONLY, one write).
Status write_attribute(const std::filesystem::path& path, std::string_view text);
// Names of the entries of a folder, sorted; an empty list when the folder does not exist.
Result<std::vector<std::string>> list_dir(const std::filesystem::path& path);
// mkdir -p with a clear error.
Status make_dirs(const std::filesystem::path& path, unsigned mode = 0755);
// The text of errno for messages: "No such file or directory (errno 2)".
std::string errno_text(int err);

}  // namespace noreboot::agent
