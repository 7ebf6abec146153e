#include "builder/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace noreboot::builder {

Result<FileLock> FileLock::acquire(const std::filesystem::path& file, const char* what) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Error(Errc::io, "cannot open lock file " + file.string() + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    log::info("waiting for another noreboot-build that holds {} ({})", file.string(), what);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int e = errno;
        ::close(fd);
        return Error(Errc::io, "cannot lock " + file.string() + ": " + std::strerror(e));
      }
    }
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace noreboot::builder
