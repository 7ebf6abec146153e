// See file_lock.h.
#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace noreboot {

namespace {

// The pid a holder recorded in the file, or "?".
std::string recorded_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "?" : pid;
}

std::string busy_message(const std::filesystem::path& file, const LockOptions& o, int fd) {
  std::string holder = o.holder.empty() ? "process" : o.holder;
  std::string msg = "another " + holder;
  if (o.record_pid) msg += " (pid " + recorded_pid(fd) + ")";
  msg += " holds " + file.string();
  if (!o.busy_hint.empty()) msg += "; " + o.busy_hint;
  return msg;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::filesystem::path& file, const LockOptions& o) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, o.mode);
  if (fd < 0) return Error(Errc::io, "cannot open lock file " + file.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e != EWOULDBLOCK) {
      ::close(fd);
      return Error(Errc::io, "cannot lock " + file.string() + ": " + std::strerror(e));
    }
    if (!o.wait) {
      std::string msg = busy_message(file, o, fd);
      ::close(fd);
      return Error(Errc::conflict, msg);
    }
    if (!o.holder.empty())
      log::info("waiting for another {} that holds {}{}", o.holder, file.string(),
                o.why.empty() ? "" : " (" + o.why + ")");
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        e = errno;
        ::close(fd);
        return Error(Errc::io, "cannot lock " + file.string() + ": " + std::strerror(e));
      }
    }
  }
  if (o.record_pid) {
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      // The pid only feeds another process's message; the lock itself holds.
    }
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace noreboot
