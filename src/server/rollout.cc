// The rollout engine (see rollout.h for the approach).
#include "server/rollout.h"

#include <algorithm>

namespace noreboot::server {

double placement_bucket(std::string_view rollout_id, std::string_view host_id) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64 offset basis
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(rollout_id);
  mix("/");
  mix(host_id);
  return static_cast<double>(h % 10000) / 100.0;
}

bool window_open(const std::optional<api::MaintenanceWindow>& w, std::int64_t now) {
  if (!w) return true;
  int minute = static_cast<int>(((now % 86400) + 86400) % 86400 / 60);
  if (w->start_minute < w->end_minute) return minute >= w->start_minute && minute < w->end_minute;
  return minute >= w->start_minute || minute < w->end_minute;  // wraps midnight
}

bool rollout_targets(const RolloutRecord& r, const HostRecord& host) {
  if (!r.groups.empty() && std::find(r.groups.begin(), r.groups.end(), host.group) == r.groups.end())
    return false;
  for (const auto& tag : r.tags)
    if (std::find(host.tags.begin(), host.tags.end(), tag) == host.tags.end()) return false;
  return true;
}

namespace {

// The safety rules that hold for any offer, whoever asks for it. Returns "" when safe.
std::string unsafe_reason(const HostRecord& host, const BundleRecord& b,
                          const std::function<bool(const std::string&)>& host_failed) {
  if (b.kernel_build_id != host.kernel.build_id || b.kernel_release != host.kernel.release)
    return "built for another kernel";
  std::uint64_t applied = host.applied ? host.applied->sequence : 0;
  if (static_cast<std::uint64_t>(b.sequence) <= applied) return "not newer than the applied patch";
  if (b.blocked) return "bundle blocked";
  if (host_failed(b.sha256)) return "host already failed with this bundle";
  return "";
}

}  // namespace

OfferDecision choose_offer(const HostRecord& host, const FleetSnapshot& snap, std::int64_t now,
                           const std::function<bool(const std::string&)>& host_failed) {
  // Pins of the host's group come first: a date pin freezes it, a bundle pin holds it there.
  for (const auto& pin : snap.pins) {
    if (pin.group.empty() || pin.group != host.group) continue;
    if (pin.until > now) return {std::nullopt, "", "group pinned until " + std::to_string(pin.until)};
    if (!pin.bundle_sha256.empty()) {
      auto it = snap.bundles.find(pin.bundle_sha256);
      if (it == snap.bundles.end()) return {std::nullopt, "", "group pinned to an unknown bundle"};
      std::string why = unsafe_reason(host, it->second, host_failed);
      if (!why.empty()) return {std::nullopt, "", "group pinned: " + why};
      return {it->second, "", "group pinned to this bundle"};
    }
  }

  OfferDecision best{std::nullopt, "", "no rollout targets this host"};
  for (const auto& r : snap.rollouts) {
    if (r.state == RolloutState::halted || r.state == RolloutState::awaiting_approval) continue;
    // The rollout's bundle for this host's kernel (a fix rollout has one per kernel).
    const BundleRecord* bp = nullptr;
    for (const auto& sha : r.all_bundles()) {
      auto it = snap.bundles.find(sha);
      if (it != snap.bundles.end() && it->second.kernel_build_id == host.kernel.build_id) {
        bp = &it->second;
        break;
      }
    }
    if (!bp) continue;
    const BundleRecord& b = *bp;
    if (!rollout_targets(r, host)) continue;
    if (r.stages.empty()) continue;
    int stage = std::clamp(r.current_stage, 0, static_cast<int>(r.stages.size()) - 1);
    double percent = r.state == RolloutState::completed ? r.stages.back().percent : r.stages[stage].percent;
    if (placement_bucket(r.id, host.id) >= percent) {
      if (!best.bundle) best.reason = "not in the rollout's current stage";
      continue;
    }
    if (!window_open(r.window, now)) {
      if (!best.bundle) best.reason = "outside the maintenance window";
      continue;
    }
    std::string why = unsafe_reason(host, b, host_failed);
    if (!why.empty()) {
      if (!best.bundle) best.reason = why;
      continue;
    }
    if (!best.bundle || b.sequence > best.bundle->sequence) best = {b, r.id, "in stage"};
  }
  return best;
}

RolloutStep evaluate_rollout(const RolloutRecord& r, const RolloutCounts& counts, std::int64_t now) {
  RolloutStep step{r, false, false, ""};
  if (r.state == RolloutState::halted || r.state == RolloutState::awaiting_approval || r.stages.empty())
    return step;
  int stage = std::clamp(r.current_stage, 0, static_cast<int>(r.stages.size()) - 1);
  const api::Stage& s = r.stages[stage];
  std::int64_t failed = counts.failed - std::min(counts.failed, r.failure_baseline);
  if (failed > s.failure_budget) {
    step.next.state = RolloutState::halted;
    step.next.halt_reason = std::to_string(failed) + " failed hosts" +
                            (r.failure_baseline > 0 ? " since the rollout was resumed" : "") +
                            " exceed the failure budget of " + std::to_string(s.failure_budget) + " in stage " +
                            std::to_string(stage + 1) + " (" + std::to_string(static_cast<int>(s.percent)) + "%)";
    step.changed = true;
    step.block_bundle = true;
    step.event = "halted";
    return step;
  }
  if (r.state == RolloutState::completed) return step;
  if (now - r.stage_started_at < s.soak_seconds) return step;
  if (stage + 1 < static_cast<int>(r.stages.size())) {
    step.next.current_stage = stage + 1;
    step.next.stage_started_at = now;
    step.event = "advanced";
  } else {
    step.next.state = RolloutState::completed;
    step.event = "completed";
  }
  step.changed = true;
  return step;
}

Result<RolloutRecord> promote_rollout(const RolloutRecord& r, std::int64_t now) {
  if (r.state != RolloutState::running)
    return Error(Errc::conflict, "rollout " + r.id + " is " + std::string(rollout_state_name(r.state)) +
                                     ": only a running rollout can be promoted (resume it first)");
  RolloutRecord next = r;
  if (r.current_stage + 1 < static_cast<int>(r.stages.size())) {
    next.current_stage = r.current_stage + 1;
    next.stage_started_at = now;
  } else {
    next.state = RolloutState::completed;
  }
  return next;
}

Result<RolloutRecord> approve_rollout(const RolloutRecord& r, std::int64_t now) {
  if (r.state != RolloutState::awaiting_approval)
    return Error(Errc::conflict, "rollout " + r.id + (r.fix_id.empty() ? "" : " of fix " + r.fix_id) +
                                     " is already approved or was never waiting for approval (it is " +
                                     std::string(rollout_state_name(r.state)) + "): nothing to approve");
  RolloutRecord next = r;
  next.state = RolloutState::running;
  next.current_stage = 0;
  next.stage_started_at = now;  // the first stage soaks from the approval, not from the publish
  return next;
}

Result<RolloutRecord> halt_rollout(const RolloutRecord& r, const std::string& reason) {
  if (r.state == RolloutState::halted) return Error(Errc::conflict, "rollout " + r.id + " is already halted");
  RolloutRecord next = r;
  next.state = RolloutState::halted;
  next.halt_reason = reason.empty() ? "halted by an administrator" : reason;
  return next;
}

Result<RolloutRecord> resume_rollout(const RolloutRecord& r, std::int64_t now, std::int64_t failed_now) {
  if (r.state != RolloutState::halted)
    return Error(Errc::conflict, "rollout " + r.id + " is " + std::string(rollout_state_name(r.state)) +
                                     ": only a halted rollout can be resumed");
  RolloutRecord next = r;
  next.state = RolloutState::running;
  next.halt_reason.clear();
  next.stage_started_at = now;
  next.failure_baseline = std::max(r.failure_baseline, failed_now);
  return next;
}

}  // namespace noreboot::server
