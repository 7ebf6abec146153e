// KernelInterface: everything the agent asks of the running kernel, behind one small class.
//
// Problem: the agent's logic (checks, transition following, revert, crash-loop guard) must be
// tested quickly and many times over, but the only honest kernel is a real one, and this
// project never loads a module into the machine it builds on. So the kernel side is a narrow
// interface with two implementations:
//   - RealKernel (real_kernel.h): finit_module(2)/delete_module(2), /sys/kernel/livepatch,
//     /proc/<pid>/task/<tid>/{patch_state,stack}, /dev/kmsg. Used only inside the QEMU guest
//     in tests (label `vm`), and on real hosts.
//   - FakeKernel (fake_kernel.h): the same files under a temporary folder, with a tiny model
//     of the livepatch core (transition, replace, reverse, stall) so unit and fleet tests can
//     run many agents at once.
// Both read sysfs/procfs the same way (ProcSysKernel below); only loading, unloading and the
// kernel log differ. Nothing here decides policy: that is transition.cc and apply.cc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::agent {

// One entry of /sys/kernel/livepatch.
struct LivepatchInfo {
  std::string name;         // the patch's module name
  bool enabled = false;     // .../enabled
  bool transition = false;  // .../transition: 1 while tasks are still being switched
};

// A task that has not reached the transition's target state (patch_state != target).
struct BlockedTask {
  int pid = 0;              // thread id (the /proc/<pid>/task/<tid> tid)
  int tgid = 0;
  std::string comm;
  int patch_state = -1;     // -1 KLP_UNDEFINED, 0 unpatched, 1 patched
  std::string stack;        // /proc/<pid>/task/<tid>/stack, as the kernel prints it
};

// One record of /dev/kmsg ("prio,seq,usec,flags;text").
struct KmsgRecord {
  uint64_t seq = 0;
  int level = 6;            // syslog level (0 emerg .. 7 debug)
  uint64_t usec = 0;        // microseconds since boot
  std::string text;
};

// New kernel log records from the moment the cursor was made.
class KmsgCursor {
 public:
  virtual ~KmsgCursor() = default;
  // Records logged since the cursor was made, or since the previous call.
  virtual Result<std::vector<KmsgRecord>> read_new() = 0;
};

class KernelInterface {
 public:
  virtual ~KernelInterface() = default;

  // finit_module(2) on an open .ko. The kernel reads the module from the fd; the error
  // names what the kernel said (EEXIST, ENOEXEC, EKEYREJECTED, ...).
  virtual Status load_module(int fd, const std::string& params) = 0;
  // delete_module(2) with O_NONBLOCK; Errc::conflict while the module is still in use.
  virtual Status unload_module(const std::string& name) = 0;
  virtual Result<bool> module_loaded(const std::string& name) = 0;

  virtual Result<std::vector<LivepatchInfo>> list_livepatches() = 0;
  // std::nullopt when /sys/kernel/livepatch/<name> does not exist (not loaded, or freed).
  virtual Result<std::optional<LivepatchInfo>> livepatch(const std::string& name) = 0;
  // Writes 0 to .../enabled: disables a settled patch, or reverses a running transition.
  virtual Status disable_livepatch(const std::string& name) = 0;
  // Writes 1 to .../signal: sends a fake signal to tasks blocking the transition.
  // (.../force is never used by noreboot: it breaks the consistency model.)
  virtual Status signal_livepatch(const std::string& name) = 0;
  // Tasks whose patch_state is neither -1 nor `target`, with their stacks.
  virtual Result<std::vector<BlockedTask>> blocked_tasks(int target) = 0;

  // Sequence number the next kernel log record will get.
  virtual Result<uint64_t> kmsg_next_seq() = 0;
  // Kernel log records with seq >= `from` that are still in the ring buffer.
  virtual Result<std::vector<KmsgRecord>> kmsg_since(uint64_t from) = 0;
  // A cursor at the end of the kernel log (cheap: does not read the whole ring buffer on a
  // real kernel, which costs tens of milliseconds).
  virtual Result<std::unique_ptr<KmsgCursor>> kmsg_tail();

  // /proc/sys/kernel/random/boot_id: changes at every boot.
  virtual Result<std::string> boot_id() = 0;
  // The root the kernel's files are read from ("/" on a real host).
  virtual const std::filesystem::path& root() const = 0;
};

// The sysfs/procfs reading shared by both implementations, relative to a root folder.
class ProcSysKernel : public KernelInterface {
 public:
  explicit ProcSysKernel(std::filesystem::path root) : root_(std::move(root)) {}

  Result<bool> module_loaded(const std::string& name) override;
  Result<std::vector<LivepatchInfo>> list_livepatches() override;
  Result<std::optional<LivepatchInfo>> livepatch(const std::string& name) override;
  Status disable_livepatch(const std::string& name) override;
  Status signal_livepatch(const std::string& name) override;
  Result<std::vector<BlockedTask>> blocked_tasks(int target) override;
  Result<std::string> boot_id() override;
  const std::filesystem::path& root() const override { return root_; }

 protected:
  std::filesystem::path livepatch_dir() const { return root_ / "sys/kernel/livepatch"; }
  std::filesystem::path root_;
};

// Parses one /dev/kmsg record; std::nullopt for a malformed one (skipped, not fatal).
std::optional<KmsgRecord> parse_kmsg_record(std::string_view record);

}  // namespace noreboot::agent
