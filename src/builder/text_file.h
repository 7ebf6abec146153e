// Small file helpers of the builder: whole-file reads and atomic writes (temp + rename), with
// errors that name the file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace noreboot::builder {

Result<std::string> read_text(const std::filesystem::path& file);
// Writes to FILE.tmp.PID, fsyncs, renames over FILE.
Status write_text_atomic(const std::filesystem::path& file, std::string_view content);

}  // namespace noreboot::builder
