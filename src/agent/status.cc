#include "agent/status.h"

#include "agent/transition.h"

namespace noreboot::agent {

using nlohmann::json;

std::string_view health_name(Health h) {
  switch (h) {
    case Health::ok: return "ok";
    case Health::warning: return "warning";
    case Health::critical: return "critical";
    case Health::unknown: return "unknown";
  }
  return "unknown";
}

Result<StatusReport> collect_status(AgentContext& ctx) {
  StatusReport r;
  r.now = unix_now();
  r.server = ctx.config.server;
  auto kernel = read_running_kernel(ctx.root);
  if (kernel.ok()) r.kernel = *kernel;
  else r.kernel_error = kernel.error().message();
  r.boot_id = ctx.kernel->boot_id().value_or("");
  NR_TRY(r.state, ctx.store.load_state());
  NR_TRY(r.journal, ctx.store.load_journal());
  NR_TRY(r.live_patches, ctx.kernel->list_livepatches());
  if (r.state.applied)
    for (const auto& p : r.live_patches)
      if (p.name == r.state.applied->patch_name && p.enabled) r.applied_loaded = true;
  assess_health(r, ctx.config);
  return r;
}

void assess_health(StatusReport& r, const AgentConfig& c) {
  r.reasons.clear();
  Health h = Health::ok;
  auto raise = [&](Health level, std::string why) {
    if (static_cast<int>(level) > static_cast<int>(h)) h = level;
    r.reasons.push_back(std::string(health_name(level)) + ": " + std::move(why));
  };
  if (!r.kernel) {
    r.health = Health::unknown;
    r.reasons.push_back("unknown: cannot read the running kernel's identity: " + r.kernel_error);
    return;
  }
  const auto& s = r.state;
  if (s.applied && !r.applied_loaded) {
    if (s.applied->boot_id == r.boot_id)
      raise(Health::critical, "patch " + s.applied->patch_name + " was applied in this boot but the kernel no longer shows it");
    else
      raise(Health::warning, "patch " + s.applied->patch_name + " (sequence " + std::to_string(s.applied->sequence) +
                                 ") was applied before the last reboot and is not loaded now");
    if (s.quarantine_for(s.applied->bundle_sha256))
      raise(Health::critical, "the crash-loop guard quarantined " + s.applied->patch_name + ": " +
                                  s.quarantine_for(s.applied->bundle_sha256)->reason);
  }
  double stuck_after = c.transition_seconds + c.signal_seconds + c.reverse_seconds + 30;
  if (r.journal.step == Step::transition && r.journal.boot_id == r.boot_id &&
      static_cast<double>(r.now - r.journal.since) > stuck_after)
    raise(Health::critical, "the transition of " + r.journal.patch_name + " has been running for " +
                                std::to_string(r.now - r.journal.since) + " s");
  for (const auto& p : r.live_patches)
    if (p.transition && r.journal.step != Step::transition && r.journal.step != Step::loading)
      raise(Health::warning, "livepatch " + p.name + " is in transition");
  bool severe = false;
  for (const auto& w : s.kernel_warnings)
    severe |= w.find("BUG") != std::string::npos || w.find("Oops") != std::string::npos ||
              w.find("panic") != std::string::npos || w.find("general protection") != std::string::npos;
  if (!s.kernel_warnings.empty())
    raise(severe ? Health::critical : Health::warning,
          "the kernel logged trouble after the last load: " + s.kernel_warnings.front() +
              (s.kernel_warnings.size() > 1 ? " (+" + std::to_string(s.kernel_warnings.size() - 1) + " more)" : ""));
  if (!s.last_outcome_ok) raise(Health::warning, "last operation failed: " + s.last_outcome.substr(0, 300));
  if (!r.server.empty()) {
    int64_t overdue = 3 * static_cast<int64_t>(c.interval_seconds + c.jitter_seconds + c.long_poll_seconds);
    if (s.last_checkin == 0) raise(Health::warning, "never checked in with " + r.server);
    else if (r.now - s.last_checkin > overdue)
      raise(Health::warning, "last check-in " + std::to_string(r.now - s.last_checkin) + " s ago");
  }
  r.health = h;
}

json status_json(const StatusReport& r) {
  json j;
  if (r.kernel)
    j["kernel"] = {{"release", r.kernel->release}, {"version", r.kernel->version},
                   {"build_id", r.kernel->build_id}, {"arch", r.kernel->arch}};
  else
    j["kernel"] = nullptr;
  j["boot_id"] = r.boot_id;
  json state = to_json(r.state);
  j["applied"] = state["applied"];
  if (!j["applied"].is_null()) j["applied"]["loaded"] = r.applied_loaded;
  j["step"] = step_name(r.journal.step);
  j["step_since"] = r.journal.since;
  j["step_detail"] = r.journal.detail;
  j["livepatches"] = json::array();
  for (const auto& p : r.live_patches)
    j["livepatches"].push_back({{"name", p.name}, {"enabled", p.enabled}, {"transition", p.transition}});
  j["server"] = r.server;
  j["last_checkin"] = r.state.last_checkin;
  j["last_checkin_result"] = r.state.last_checkin_result;
  j["last_outcome"] = r.state.last_outcome;
  j["last_outcome_ok"] = r.state.last_outcome_ok;
  j["blocked"] = state["last_blocked"];
  j["kernel_warnings"] = r.state.kernel_warnings;
  j["quarantined"] = state["quarantined"];
  j["highest_sequence"] = state["highest_sequence"];
  j["startup_report"] = r.state.startup_report;
  j["health"] = health_name(r.health);
  j["reasons"] = r.reasons;
  return j;
}

std::string status_text(const StatusReport& r) {
  std::string out;
  if (r.kernel) {
    out += "kernel:      " + r.kernel->release + " (" + r.kernel->arch + "), build ID " + r.kernel->build_id + "\n";
    out += "             " + r.kernel->version + "\n";
  } else {
    out += "kernel:      unknown: " + r.kernel_error + "\n";
  }
  if (r.state.applied) {
    const auto& a = *r.state.applied;
    out += "applied:     " + a.patch_name + ", sequence " + std::to_string(a.sequence) +
           (r.applied_loaded ? ", live" : ", NOT loaded") + "\n";
    out += "bundle:      sha256 " + a.bundle_sha256 + "\n";
    for (const auto& f : a.fixes) out += "  fixes      " + f + "\n";
  } else {
    out += "applied:     nothing\n";
  }
  out += "step:        " + std::string(step_name(r.journal.step)) +
         (r.journal.detail.empty() ? "" : " (" + r.journal.detail.substr(0, 200) + ")") + "\n";
  for (const auto& p : r.live_patches)
    out += "livepatch:   " + p.name + " enabled=" + (p.enabled ? "1" : "0") +
           " transition=" + (p.transition ? "1" : "0") + "\n";
  if (!r.server.empty())
    out += "server:      " + r.server + ", last check-in " +
           (r.state.last_checkin ? std::to_string(r.now - r.state.last_checkin) + " s ago" : std::string("never")) +
           (r.state.last_checkin_result.empty() ? "" : " (" + r.state.last_checkin_result + ")") + "\n";
  if (!r.state.last_outcome.empty())
    out += std::string("last:        ") + (r.state.last_outcome_ok ? "" : "FAILED: ") + r.state.last_outcome + "\n";
  if (!r.state.last_blocked.empty()) out += "blocked:\n" + describe_blocked(r.state.last_blocked);
  for (const auto& w : r.state.kernel_warnings) out += "kernel log:  " + w + "\n";
  for (const auto& q : r.state.quarantined) out += "quarantined: " + q.patch_name + ": " + q.reason + "\n";
  if (!r.state.startup_report.empty()) out += "at start:    " + r.state.startup_report + "\n";
  out += "health:      " + std::string(health_name(r.health)) + "\n";
  for (const auto& why : r.reasons) out += "  " + why + "\n";
  return out;
}

}  // namespace noreboot::agent
