#include "agent/real_kernel.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/fs_util.h"

namespace noreboot::agent {

namespace {

Status forbidden(const char* what) {
  const char* v = std::getenv("NOREBOOT_FORBID_REAL_KERNEL");
  if (v && std::strcmp(v, "1") == 0)
    return Error(Errc::refused, std::string(what) +
                                    " refused: NOREBOOT_FORBID_REAL_KERNEL=1 (a test must use "
                                    "--root with the fake kernel, or run inside the VM)");
  return ok_status();
}

std::string load_hint(int err) {
  switch (err) {
    case EEXIST: return "a module with this name is already loaded (run `noreboot revert` first)";
    case EPERM: return "not allowed: run as root with CAP_SYS_MODULE; module loading may be disabled "
                       "(kernel.modules_disabled) or locked down";
    case EKEYREJECTED:
    case ENOKEY:
    case EBADMSG: return "the kernel requires a valid module signature (module.sig_enforce or "
                         "Secure Boot lockdown): sign the module with a key the kernel trusts";
    case ENOEXEC: return "the kernel rejected the module format (built for another kernel?)";
    case EINVAL: return "the kernel rejected the module (vermagic or symbol versions differ, or the "
                        "livepatch failed to initialise; see the kernel log lines below)";
    case ENOENT: return "a symbol the patch needs was not found in the running kernel";
    default: return "see the kernel log lines below";
  }
}

// Reads records from an open /dev/kmsg until there are none left. /dev/kmsg returns one record per read();
// EPIPE means the record we were at was overwritten: reading on continues with the next one.
Result<std::vector<KmsgRecord>> read_records(int fd) {
  std::vector<KmsgRecord> out;
  std::string buf(8192, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == EPIPE) continue;
      if (errno == EAGAIN) break;
      return Error(Errc::io, "cannot read /dev/kmsg: " + errno_text(errno));
    }
    if (n == 0) break;
    if (auto r = parse_kmsg_record(std::string_view(buf.data(), static_cast<size_t>(n))))
      out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<KmsgRecord>> read_all_kmsg() {
  int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error(Errc::unavailable, "cannot open /dev/kmsg: " + errno_text(errno));
  auto out = read_records(fd);
  ::close(fd);
  return out;
}

class FdCursor final : public KmsgCursor {
 public:
  explicit FdCursor(int fd) : fd_(fd) {}
  ~FdCursor() override { ::close(fd_); }
  Result<std::vector<KmsgRecord>> read_new() override { return read_records(fd_); }

 private:
  int fd_;
};

}  // namespace

Status RealKernel::load_module(int fd, const std::string& params) {
  NR_TRY_STATUS(forbidden("finit_module"));
  if (::syscall(SYS_finit_module, fd, params.c_str(), 0) != 0) {
    int err = errno;
    return Error(err == EEXIST ? Errc::conflict : Errc::refused,
                 "finit_module failed: " + errno_text(err) + ": " + load_hint(err));
  }
  return ok_status();
}

Status RealKernel::unload_module(const std::string& name) {
  NR_TRY_STATUS(forbidden("delete_module"));
  if (::syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK || err == EBUSY)
      return Error(Errc::conflict, "module " + name + " is still in use: " + errno_text(err));
    if (err == ENOENT) return Error(Errc::not_found, "module " + name + " is not loaded");
    return Error(Errc::io, "delete_module(" + name + ") failed: " + errno_text(err));
  }
  return ok_status();
}

Result<uint64_t> RealKernel::kmsg_next_seq() {
  NR_TRY(auto records, read_all_kmsg());
  return records.empty() ? uint64_t{0} : records.back().seq + 1;
}

Result<std::unique_ptr<KmsgCursor>> RealKernel::kmsg_tail() {
  int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error(Errc::unavailable, "cannot open /dev/kmsg: " + errno_text(errno));
  if (::lseek(fd, 0, SEEK_END) < 0) {
    int err = errno;
    ::close(fd);
    return Error(Errc::io, "cannot seek /dev/kmsg: " + errno_text(err));
  }
  return std::unique_ptr<KmsgCursor>(std::make_unique<FdCursor>(fd));
}

Result<std::vector<KmsgRecord>> RealKernel::kmsg_since(uint64_t from) {
  NR_TRY(auto records, read_all_kmsg());
  std::vector<KmsgRecord> out;
  for (auto& r : records)
    if (r.seq >= from) out.push_back(std::move(r));
  return out;
}

}  // namespace noreboot::agent
