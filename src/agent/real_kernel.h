// RealKernel: the KernelInterface of the running kernel (finit_module, delete_module,
// /sys/kernel/livepatch, /proc, /dev/kmsg). Only for real hosts and the QEMU guest.
//
// Safety belt: the project's tests run as root on the build machine and must never load a
// module into it. When the environment has NOREBOOT_FORBID_REAL_KERNEL=1 (every ctest test
// sets it, see src/agent/CMakeLists.txt), loading and unloading refuse with an error instead
// of reaching the kernel.
#pragma once

#include "agent/kernel_interface.h"

namespace noreboot::agent {

class RealKernel final : public ProcSysKernel {
 public:
  RealKernel() : ProcSysKernel("/") {}
  Status load_module(int fd, const std::string& params) override;
  Status unload_module(const std::string& name) override;
  Result<uint64_t> kmsg_next_seq() override;
  Result<std::vector<KmsgRecord>> kmsg_since(uint64_t from) override;
  // /dev/kmsg opened and lseek'ed to SEEK_END: later reads return only new records.
  Result<std::unique_ptr<KmsgCursor>> kmsg_tail() override;
};

}  // namespace noreboot::agent
