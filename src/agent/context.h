// AgentContext: the one object a command or the daemon passes down (configuration, the kernel,
// the state store, the trusted keys, where progress goes). No global mutable state.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "agent/config.h"
#include "agent/kernel_interface.h"
#include "agent/state.h"
#include "core/keys.h"

namespace noreboot::agent {

struct AgentContext {
  AgentConfig config;
  std::filesystem::path root = "/";   // where /proc and /sys are read ("/" on a real host)
  KernelInterface* kernel = nullptr;
  StateStore store{"/var/lib/noreboot"};
  TrustStore trust;
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

}  // namespace noreboot::agent
