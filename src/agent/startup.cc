#include "agent/startup.h"

#include <algorithm>

namespace noreboot::agent {

namespace {

const LivepatchInfo* find_patch(const std::vector<LivepatchInfo>& list, const std::string& name) {
  for (const auto& p : list)
    if (p.name == name) return &p;
  return nullptr;
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

}  // namespace

StartupDecision assess_startup(const StartupFacts& f) {
  StartupDecision d;
  d.journal = f.journal;
  d.state = f.state;
  const Journal& j = f.journal;
  const std::string subject = j.patch_name.empty() ? std::string("bundle") : j.patch_name;

  if (!j.boot_id.empty() && j.boot_id != f.boot_id) {
    d.rebooted = true;
    bool clean = f.clean_shutdown_boot == j.boot_id;
    int64_t last_alive = std::max(j.since, f.state.last_checkin);
    bool suspect = false;
    switch (j.step) {
      case Step::loading:
      case Step::transition:
      case Step::reverting: suspect = true; break;
      case Step::live: suspect = last_alive - j.since < f.settle_seconds; break;
      default: break;
    }
    if (!clean && suspect && !j.bundle_sha256.empty()) {
      std::string reason = "the previous boot (" + short_id(j.boot_id) +
                           ") ended without a clean shutdown while " + subject + " (sequence " +
                           std::to_string(j.sequence) + ") was " + std::string(step_name(j.step)) +
                           (j.step == Step::live ? " (last known alive " + std::to_string(last_alive - j.since) +
                                                       " s after the load, less than the " +
                                                       std::to_string(f.settle_seconds) + " s settle time)"
                                                 : "") +
                           "; it will not be loaded again automatically (apply it by hand with "
                           "`noreboot apply` to override)";
      if (!d.state.quarantine_for(j.bundle_sha256))
        d.state.quarantined.push_back({j.bundle_sha256, j.patch_name, reason, f.now});
      d.report = "crash-loop guard: " + reason;
    } else {
      d.report = std::string("rebooted since the last step (") + std::string(step_name(j.step)) +
                 (clean ? ", clean shutdown" : ", no clean-shutdown marker") + ")";
    }
    d.journal = Journal{};
    d.journal.boot_id = f.boot_id;
    d.journal.since = f.now;
    d.changed = true;
    d.reapply_allowed = d.state.applied.has_value() && find_patch(f.live_patches, d.state.applied->patch_name) == nullptr &&
                        !d.state.quarantine_for(d.state.applied->bundle_sha256);
    if (d.state.applied && d.state.quarantine_for(d.state.applied->bundle_sha256))
      d.report += "; the last good bundle is quarantined: nothing is reapplied";
    d.state.startup_report = d.report;
    return d;
  }

  // Same boot (or a first start): reconcile an interrupted step with the kernel.
  const LivepatchInfo* in_kernel = find_patch(f.live_patches, j.patch_name);
  switch (j.step) {
    case Step::downloaded:
    case Step::verifying:
      d.report = "the agent stopped while " + std::string(step_name(j.step)) + " " + subject +
                 "; nothing was loaded";
      d.journal.step = Step::idle;
      d.journal.candidate.reset();
      d.changed = true;
      break;
    case Step::loading:
    case Step::transition:
      if (in_kernel && in_kernel->enabled && !in_kernel->transition) {
        d.report = "the agent stopped while " + std::string(step_name(j.step)) + " " + subject +
                   "; the kernel finished the transition: recorded as live";
        d.journal.step = Step::live;
        d.journal.since = f.now;
        if (j.candidate) {
          d.state.applied = j.candidate;
          uint64_t& hs = d.state.highest_sequence[j.candidate->kernel_build_id];
          if (j.candidate->sequence >= hs) d.state.highest_sha256[j.candidate->kernel_build_id] = j.candidate->bundle_sha256;
          hs = std::max(hs, j.candidate->sequence);
        }
        d.journal.candidate.reset();
      } else if (in_kernel && in_kernel->transition) {
        d.report = "the agent stopped while " + std::string(step_name(j.step)) + " " + subject +
                   "; the kernel is still in transition (run `noreboot status` again, or "
                   "`noreboot revert`)";
        d.journal.step = Step::transition;
      } else {
        d.report = "the agent stopped while " + std::string(step_name(j.step)) + " " + subject +
                   "; the patch is not in the kernel: the load failed or was reversed";
        d.journal.step = Step::failed;
        d.journal.detail = d.report;
        d.journal.candidate.reset();
      }
      d.changed = true;
      break;
    case Step::reverting:
      if (!in_kernel) {
        d.report = "the agent stopped while reverting " + subject + "; the patch is gone from the kernel";
        d.journal.step = Step::idle;
        if (d.state.applied && d.state.applied->patch_name == j.patch_name) d.state.applied.reset();
      } else {
        d.report = "the agent stopped while reverting " + subject +
                   "; the kernel still shows it (run `noreboot revert` again)";
        d.journal.step = Step::failed;
        d.journal.detail = d.report;
      }
      d.changed = true;
      break;
    case Step::live:
      if (f.now - j.since >= f.settle_seconds) {
        d.journal.step = Step::stable;
        d.changed = true;
      }
      break;
    default:
      break;
  }
  if (j.boot_id.empty()) {
    d.journal.boot_id = f.boot_id;
    d.changed = true;
  }
  if (d.changed && !d.report.empty()) d.state.startup_report = d.report;
  return d;
}

}  // namespace noreboot::agent
