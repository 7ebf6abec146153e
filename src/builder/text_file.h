// Small file helpers of the builder: whole-file reads and atomic writes, with errors that name
// the file. The atomic write is core's (core/file_io.h), not a copy.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace noreboot::builder {

Result<std::string> read_text(const std::filesystem::path& file);
// Writes FILE atomically (mode 0644) through core's write_file (core/file_io.h).
Status write_text_atomic(const std::filesystem::path& file, std::string_view content);

}  // namespace noreboot::builder
