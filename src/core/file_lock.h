// The one file lock of noreboot: an exclusive advisory lock (flock) on a file, held for the
// object's lifetime.
//
// Problem: several parts keep two runs of themselves apart: the builder serialises prepares and
// Kbuild compiles inside one kernel tree, klp its symbol cache and direct Kbuild, the feed one
// run per data folder, the agent the daemon against a command run by hand. Each had its own
// copy of open + flock + close, with its own idea of what to say when the lock is busy.
// Approach: flock, because the kernel drops it when the holder dies, so a killed process never
// leaves a stale lock behind and nothing has to guess whether a pid is still alive. A caller
// either waits (optionally saying on stderr who it waits for) or fails fast with
// Errc::conflict and a message that names the lock file, the holder and what to do. With
// `record_pid` the holder writes its pid into the file so the refusal can name it.
// Trade-off: advisory only, and per open file description: two FileLocks on one file inside
// one process exclude each other too, which is what the callers want.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "core/result.h"

namespace noreboot {

struct LockOptions {
  bool wait = true;         // false: Errc::conflict at once when another holder has it
  mode_t mode = 0644;       // of the lock file when it is created
  bool record_pid = false;  // write our pid into the file, so a refusal can name the holder
  // Who holds it, for messages: "noreboot-build" gives "waiting for another noreboot-build that
  // holds FILE (WHY)" when waiting, and "another noreboot-build (pid N) holds FILE; HINT" when
  // failing fast. Empty: wait silently / a plain "FILE is locked by another process".
  std::string holder;
  std::string why;        // what the lock is for (only in the waiting line)
  std::string busy_hint;  // what to do when failing fast
};

class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& file, const LockOptions& options = {});
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace noreboot
