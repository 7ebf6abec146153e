#include "agent/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace noreboot::agent {

std::string errno_text(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}

Result<std::string> read_trimmed(const std::filesystem::path& path) {
  NR_TRY(std::string text, read_text(path));
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\t'))
    text.pop_back();
  return text;
}

Status write_attribute(const std::filesystem::path& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error(errno == ENOENT ? Errc::not_found : Errc::io,
                           "cannot open " + path.string() + " for writing: " + errno_text(errno));
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return Error(Errc::io, "writing '" + std::string(text) + "' to " + path.string() +
                                        " failed: " + errno_text(err));
  return ok_status();
}

Result<std::vector<std::string>> list_dir(const std::filesystem::path& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return names;
    return Error(Errc::io, "cannot list " + path.string() + ": " + errno_text(errno));
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Status make_dirs(const std::filesystem::path& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error(Errc::io, "cannot create folder " + path.string() + ": " + ec.message());
  ::chmod(path.c_str(), mode);
  return ok_status();
}

}  // namespace noreboot::agent
