// `noreboot status` and `noreboot check`: what the host runs, what noreboot did, and a health
// verdict a monitoring system can act on.
//
// Health (the exit code of `noreboot check`, Nagios/Icinga convention):
//   0 ok        the applied patch is live (or nothing is applied and nothing failed), the last
//               check-in is recent, the kernel logged no trouble after the last load.
//   1 warning   the last apply/revert failed or a bundle was refused (nothing changed), a patch
//               applied in an earlier boot is not loaded now, check-ins are overdue, or the
//               kernel logged a WARNING after the last load.
//   2 critical  a transition is stuck, the applied patch vanished from the kernel, the kernel
//               logged a BUG/Oops/panic after the last load, or the crash-loop guard quarantined
//               the host's last good patch.
//   3 unknown   the state or the kernel identity cannot be read.
// Every verdict other than ok comes with the reasons, one line each.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/context.h"
#include "core/kernel_identity.h"

namespace noreboot::agent {

enum class Health { ok = 0, warning = 1, critical = 2, unknown = 3 };
std::string_view health_name(Health h);

struct StatusReport {
  std::optional<KernelIdentity> kernel;
  std::string kernel_error;
  std::string boot_id;
  AgentState state;
  Journal journal;
  std::vector<LivepatchInfo> live_patches;
  bool applied_loaded = false;
  std::string server;
  int64_t now = 0;
  Health health = Health::ok;
  std::vector<std::string> reasons;
};

Result<StatusReport> collect_status(AgentContext& ctx);
// Pure: the verdict from a collected report (unit-tested case by case).
void assess_health(StatusReport& report, const AgentConfig& config);
nlohmann::json status_json(const StatusReport& report);
std::string status_text(const StatusReport& report);

}  // namespace noreboot::agent
