// FakeKernel: a KernelInterface over a folder that looks like the parts of /sys, /proc and
// /dev/kmsg the agent reads, with a small model of the livepatch core.
//
// What it models (from kernel/livepatch/{core,transition}.c, 6.1):
//   - loading a module whose .modinfo says livepatch=Y creates /sys/module/<name> and
//     /sys/kernel/livepatch/<name>/{enabled=1,transition=1}; the transition completes at
//     once, unless the file <root>/fake/stall exists: then a task (pid 4242, comm "stalled",
//     stack naming the function in the stall file's first line) stays in patch_state 0 and
//     transition stays 1;
//   - a stall whose file's second line is "signal" is resolved by writing .../signal;
//   - a completed transition of a patch removes every other patch (replace = true: all
//     noreboot patches are cumulative);
//   - writing 0 to enabled reverses a running transition or disables a settled patch; either
//     way the patch is freed and its folder disappears (the module stays loaded);
//   - a module with a registered patch cannot be unloaded (EBUSY);
//   - loading a module whose name is loaded fails with EEXIST; <root>/fake/reject makes the
//     next load fail like the kernel's EINVAL, with its first line logged to the kernel log;
//   - <root>/fake/warn_on_load makes every load log its first line at level 4 (a WARNING);
//   - kernel log records are lines of <root>/dev/kmsg in /dev/kmsg's own format.
// State lives only in the folder, so several processes (agents of a fleet test) can share a
// fake kernel each, and a test can inspect or prepare it with plain file operations.
#pragma once

#include <string>

#include "agent/kernel_interface.h"

namespace noreboot::agent {

// What a fake host looks like: identity files and a boot id.
struct FakeHost {
  std::string release = "6.1.0-56-amd64";
  std::string version = "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP "
                        "PREEMPT_DYNAMIC Debian 6.1.192-2";
  std::string build_id_hex = "0123456789abcdef0123456789abcdef01234567";
  std::string boot_id = "00000000-0000-4000-8000-000000000001";
  std::string arch = "x86_64";
};

class FakeKernel final : public ProcSysKernel {
 public:
  explicit FakeKernel(std::filesystem::path root) : ProcSysKernel(std::move(root)) {}

  // Creates the folder skeleton and identity files (/proc/sys/kernel/osrelease,
  // /proc/version, /sys/kernel/notes with a GNU build-id note, boot_id).
  static Status create(const std::filesystem::path& root, const FakeHost& host);
  // Simulates a reboot: new boot id, every module and patch gone.
  static Status reboot(const std::filesystem::path& root, const std::string& new_boot_id);
  // Appends a record to the fake kernel log.
  static Status log(const std::filesystem::path& root, int level, const std::string& text);

  Status load_module(int fd, const std::string& params) override;
  Status unload_module(const std::string& name) override;
  Status disable_livepatch(const std::string& name) override;
  Status signal_livepatch(const std::string& name) override;
  Result<uint64_t> kmsg_next_seq() override;
  Result<std::vector<KmsgRecord>> kmsg_since(uint64_t from) override;

 private:
  Status complete_transition(const std::string& name);
};

// The bytes of a GNU build-id ELF note as /sys/kernel/notes shows it.
std::string make_build_id_note(const std::string& build_id_hex);

}  // namespace noreboot::agent
