// An exclusive advisory lock (flock) on a file, held for the object's lifetime. Used for the
// kernel cache (one prepare at a time per ABI) and for Kbuild compiles inside a shared tree.
// The kernel drops it when the process dies, so a killed builder never leaves a stale lock.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace noreboot::builder {

class FileLock {
 public:
  // Blocks until the lock is ours; says so on stderr if someone else holds it.
  static Result<FileLock> acquire(const std::filesystem::path& file, const char* what);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace noreboot::builder
