// Small file helpers for the agent: read a whole file, write one atomically, list a folder.
//
// The agent's state must survive being killed at any instruction. Every state file is
// therefore written to a temporary name in the same folder, fsync'ed, renamed over the old
// one, and the folder is fsync'ed, so a reader sees either the old or the new content,
// never half of one. Errors name the path and what the operating system said.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::agent {

// The whole file as bytes. Errc::not_found when it does not exist.
Result<std::string> read_file(const std::filesystem::path& path);
// The first line of a small sysfs/procfs-style file, without the trailing newline/space.
Result<std::string> read_trimmed(const std::filesystem::path& path);
// temp + fsync + rename + fsync(dir). `mode` applies to the new file (0600 for secrets).
// durable = false: the same rename, without the fsyncs (survives a killed process, not
// necessarily a machine crash).
Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                         unsigned mode = 0644, bool durable = true);
// Writes `text` into an existing file (sysfs attribute style: open O_WRONLY, one write).
Status write_attribute(const std::filesystem::path& path, std::string_view text);
// Names of the entries of a folder, sorted; an empty list when the folder does not exist.
Result<std::vector<std::string>> list_dir(const std::filesystem::path& path);
// mkdir -p with a clear error.
Status make_dirs(const std::filesystem::path& path, unsigned mode = 0755);
// The text of errno for messages: "No such file or directory (errno 2)".
std::string errno_text(int err);

}  // namespace noreboot::agent
