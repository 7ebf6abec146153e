// noreboot-fake-kernel: TEST ONLY. Prepares and changes the fake kernel folder that
// `noreboot --root DIR` reads instead of /proc, /sys and /dev/kmsg (src/agent/fake_kernel.h),
// so shell tests (the fleet test, the benchmark) can run many real `noreboot` processes
// against a real server without touching this machine's kernel. Never installed.
//
//   noreboot-fake-kernel create ROOT [--release R] [--version V] [--build-id HEX] [--boot-id ID]
//   noreboot-fake-kernel reboot ROOT BOOT_ID        every module and patch gone, new boot id
//   noreboot-fake-kernel log ROOT LEVEL TEXT        append a kernel log record
//   noreboot-fake-kernel identity ROOT              the identity as JSON (for a bundle manifest)
//
// The fake kernel's other knobs are plain files: ROOT/fake/reject (the next load fails with
// EINVAL and logs the file's first line), ROOT/fake/stall, ROOT/fake/warn_on_load.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/fake_kernel.h"
#include "core/kernel_identity.h"

namespace {

constexpr const char* kUsage =
    "usage (test only): noreboot-fake-kernel create ROOT [--release R] [--version V] [--build-id HEX] [--boot-id ID]\n"
    "                   noreboot-fake-kernel reboot ROOT BOOT_ID\n"
    "                   noreboot-fake-kernel log ROOT LEVEL TEXT\n"
    "                   noreboot-fake-kernel identity ROOT\n";

int report(const noreboot::Status& s) {
  if (s.ok()) return 0;
  std::cerr << "noreboot-fake-kernel: " << s.error().message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace noreboot;
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() < 2) { std::cerr << kUsage; return 2; }
  const std::string& cmd = a[0];
  std::filesystem::path root = a[1];
  if (cmd == "create") {
    agent::FakeHost host;
    for (size_t i = 2; i < a.size(); i += 2) {
      if (i + 1 >= a.size()) { std::cerr << "noreboot-fake-kernel: " << a[i] << " needs a value\n" << kUsage; return 2; }
      if (a[i] == "--release") host.release = a[i + 1];
      else if (a[i] == "--version") host.version = a[i + 1];
      else if (a[i] == "--build-id") host.build_id_hex = a[i + 1];
      else if (a[i] == "--boot-id") host.boot_id = a[i + 1];
      else { std::cerr << "noreboot-fake-kernel: unknown option " << a[i] << "\n" << kUsage; return 2; }
    }
    return report(agent::FakeKernel::create(root, host));
  }
  if (cmd == "reboot" && a.size() == 3) return report(agent::FakeKernel::reboot(root, a[2]));
  if (cmd == "log" && a.size() == 4) return report(agent::FakeKernel::log(root, std::stoi(a[2]), a[3]));
  if (cmd == "identity" && a.size() == 2) {
    auto id = read_running_kernel(root);
    if (!id.ok()) return report(id.error());
    std::cout << nlohmann::json{{"release", id->release}, {"version", id->version},
                                {"build_id", id->build_id}, {"arch", id->arch}}.dump()
              << "\n";
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}
