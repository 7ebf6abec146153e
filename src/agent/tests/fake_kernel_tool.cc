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
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/fake_kernel.h"
#include "core/command_line.h"
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
  agent::FakeHost host;
  std::string root, boot_id, text;
  std::optional<std::uint64_t> level;  // a kernel log level, 0-7
  cli::App app;
  auto* create = app.add_subcommand("create");
  create->add_option("ROOT", root)->required();
  create->add_option("--release", host.release);
  create->add_option("--version", host.version);
  create->add_option("--build-id", host.build_id_hex);
  create->add_option("--boot-id", host.boot_id);
  auto* reboot = app.add_subcommand("reboot");
  reboot->add_option("ROOT", root)->required();
  reboot->add_option("BOOT_ID", boot_id)->required();
  auto* log = app.add_subcommand("log");
  log->add_option("ROOT", root)->required();
  log->add_number("LEVEL", level)->required();
  log->add_option("TEXT", text)->required();
  auto* identity = app.add_subcommand("identity");
  identity->add_option("ROOT", root)->required();
  auto parsed = cli::parse_command_line(app, std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed || app.chosen_subcommand().empty()) {
    if (!parsed) std::cerr << "noreboot-fake-kernel: " << parsed.error().message() << "\n";
    std::cerr << kUsage;
    return 2;
  }
  if (*parsed == cli::CommandLine::help) {
    std::cout << kUsage;
    return 0;
  }
  if (create->parsed()) return report(agent::FakeKernel::create(root, host));
  if (reboot->parsed()) return report(agent::FakeKernel::reboot(root, boot_id));
  if (log->parsed()) return report(agent::FakeKernel::log(root, static_cast<int>(level.value_or(0)), text));
  auto id = read_running_kernel(root);
  if (!id.ok()) return report(id.error());
  std::cout << nlohmann::json{{"release", id->release}, {"version", id->version},
                              {"build_id", id->build_id}, {"arch", id->arch}}.dump()
            << "\n";
  return 0;
}
