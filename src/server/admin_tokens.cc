// Bootstrap and recovery admin tokens (see admin_tokens.h).
#include "server/admin_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "server/api_impl.h"
#include "server/token_prefixes.h"

namespace noreboot::server {

std::string new_secret(std::string_view prefix) { return std::string(prefix) + random_hex(24); }

Result<std::string> create_admin_token(Store& store, const std::string& name, const std::string& audit_action,
                                       std::int64_t now, const std::function<Status(const std::string&)>& keep) {
  std::string secret = new_secret(kAdminTokenPrefix);
  TokenRecord t;
  t.id = "t_" + random_hex(8);
  t.kind = "admin";
  t.role = "admin";
  t.name = name;
  t.created_at = now;
  if (keep) NR_TRY_STATUS(keep(secret));
  NR_TRY_STATUS(store.create_token(t, sha256_hex(secret)));
  NR_TRY_STATUS(store.add_audit({now, "server", audit_action, nlohmann::json{{"id", t.id}, {"name", name}}.dump()}));
  return secret;
}

Status write_secret_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what) {
    return Error(Errc::io, what + " " + tmp + ": " + std::strerror(errno) + " (free space in the data directory?)");
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create");
  ::fchmod(fd, 0600);  // an older file of that name may have had another mode
  std::string data = text + "\n";
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e;
      return fail("cannot write");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    return fail("cannot sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    return fail("cannot rename to " + path + " from");
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

}  // namespace noreboot::server
