#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>

namespace noreboot {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { int fd = fd_; fd_ = -1; return fd; }

 private:
  int fd_;
};

std::string temp_suffix() {
  std::random_device rd;
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s = ".tmp.";
  for (int i = 0; i < 10; ++i) s.push_back(kChars[rd() % 36]);
  return s;
}

// Reads FILE to EOF into a Bytes or std::string, refusing more than max_size bytes and, with
// `regular_only`, anything but a regular file.
template <typename Buffer>
Result<Buffer> read_all(const std::filesystem::path& path, std::uint64_t max_size, bool regular_only) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    return Error(err == ENOENT ? Errc::not_found : Errc::io,
                 path.string() + ": cannot open: " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Error(Errc::io, path.string() + ": cannot stat: " + errno_text(errno));
  if (regular_only && !S_ISREG(st.st_mode))
    return Error(Errc::invalid_argument, path.string() + ": not a regular file");
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_size)
    return Error(Errc::invalid_input, path.string() + ": file is " + std::to_string(st.st_size) +
                                          " bytes, more than the limit of " +
                                          std::to_string(max_size));
  // Files in /proc and /sys report size 0 (or a page size) and must be read to EOF, so the
  // size from fstat is only a first guess; the limit is enforced on what is actually read.
  Buffer out(static_cast<size_t>(S_ISREG(st.st_mode) && st.st_size > 0 ? st.st_size : 4096), 0);
  size_t done = 0;
  while (true) {
    if (done == out.size()) {
      if (out.size() > max_size) break;
      out.resize(std::min<std::uint64_t>(out.size() * 2, max_size + 1));
    }
    ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Errc::io, path.string() + ": read failed: " + errno_text(errno));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done > max_size)
    return Error(Errc::invalid_input, path.string() + ": file is more than the limit of " +
                                          std::to_string(max_size) + " bytes");
  out.resize(done);
  return out;
}

}  // namespace

Result<Bytes> read_file(const std::filesystem::path& path, std::uint64_t max_size) {
  return read_all<Bytes>(path, max_size, true);
}

Result<std::string> read_text(const std::filesystem::path& path, std::uint64_t max_size) {
  return read_all<std::string>(path, max_size, false);
}

Status write_text(const std::filesystem::path& path, std::string_view text, WriteOptions options) {
  return write_file(path, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), options);
}

Status write_file(const std::filesystem::path& path, ByteView bytes, WriteOptions options) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::filesystem::path tmp = path;
  tmp += temp_suffix();

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode));
  if (fd.get() < 0)
    return Error(Errc::io, path.string() + ": cannot create temporary file " + tmp.string() +
                               ": " + errno_text(errno));
  auto fail = [&](std::string what) -> Status {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error(Errc::io, path.string() + ": " + what + ": " + errno_text(err));
  };
  // open() applies the umask; set the exact mode asked for (0600 stays 0600, 0644 is not narrowed).
  if (::fchmod(fd.get(), options.mode) != 0) return fail("cannot set mode");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write failed");
    }
    done += static_cast<size_t>(n);
  }
  if (options.durable && ::fsync(fd.get()) != 0) return fail("fsync failed");
  if (::close(fd.release()) != 0) return fail("close failed");

  if (options.no_replace) {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST)
        return Error(Errc::conflict, path.string() + ": already exists; refusing to overwrite it");
      return Error(Errc::io, path.string() + ": cannot create: " + errno_text(err));
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot rename into place");
  }
  if (!options.durable) return ok_status();
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());  // best effort: some filesystems refuse fsync on dirs
  return ok_status();
}

}  // namespace noreboot
