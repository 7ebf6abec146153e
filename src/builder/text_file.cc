#include "builder/text_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/file_io.h"

namespace noreboot::builder {

Result<std::string> read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::not_found, "cannot read " + file.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_text_atomic(const std::filesystem::path& file, std::string_view content) {
  return write_file(file, as_bytes(content));  // core's: temp + fsync + rename + fsync(folder)
}

}  // namespace noreboot::builder
