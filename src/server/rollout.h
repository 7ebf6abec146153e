// The rollout engine: pure decisions, no I/O, time passed in.
//
// Problem: deciding, for each of thousands of hosts checking in, whether to offer a bundle,
// and deciding when a rollout advances or halts, must be deterministic (the same host gets
// the same answer from any server, before and after a restart), testable without a clock or
// a database, and must never offer something unsafe. Approach: two pure functions over
// plain records. `choose_offer` looks at one host and a snapshot of rollouts, bundles and
// pins; `evaluate_rollout` looks at one rollout, its outcome counts and the time, and returns
// the next state. The server feeds them from the store and writes results back with
// compare-and-set, so a server killed mid-rollout resumes from whatever the store says.
//
// Placement: a host's bucket is FNV-1a-64("<rollout id>/<host id>") mod 10000 / 100, a number
// in [0, 100) that never changes for that pair; a host is in the rollout while its bucket is
// below the current stage's percent. Stages are cumulative, so advancing only adds hosts.
// Mixing in the rollout id means the 1 % canaries differ from one rollout to the next.
//
// A fix rollout holds one bundle per kernel (the fix's records): a host's candidate is the
// bundle for its kernel build; placement, stages and windows are the same for every kernel.
//
// Safety rules (checked for every candidate, whatever the rollout says): exact kernel build
// ID and release match, sequence strictly higher than the applied one, bundle not blocked,
// the host has not failed with this bundle before.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/store.h"

namespace noreboot::server {

double placement_bucket(std::string_view rollout_id, std::string_view host_id);
bool window_open(const std::optional<api::MaintenanceWindow>& window, std::int64_t now);
bool rollout_targets(const RolloutRecord& rollout, const HostRecord& host);

// What the server knows about rollouts, bundles and pins at one moment.
struct FleetSnapshot {
  std::vector<RolloutRecord> rollouts;
  std::map<std::string, BundleRecord> bundles;  // by sha256
  std::vector<PinRecord> pins;
  std::set<std::pair<std::string, std::string>> failed;  // (host id, bundle sha256) that failed
  std::uint64_t generation = 0;  // the server's change generation it was loaded at
};

struct OfferDecision {
  std::optional<BundleRecord> bundle;  // nullopt: nothing to offer
  std::string rollout_id;              // "" when offered through a pin
  std::string reason;                  // why nothing / why this (for logs and tests)
};

// `host` carries the kernel and applied patch from the check-in. `host_failed(sha)` says
// whether this host already reported a failure with that bundle.
OfferDecision choose_offer(const HostRecord& host, const FleetSnapshot& snapshot, std::int64_t now,
                           const std::function<bool(const std::string& sha256)>& host_failed);

struct RolloutStep {
  RolloutRecord next;
  bool changed = false;
  bool block_bundle = false;  // the rollout halted on failures: block its bundle everywhere
  std::string event;          // "advanced", "completed", "halted" (for the audit log)
};

// Automatic progress: halts when failures (since the last resume: counts.failed minus the
// rollout's failure_baseline) exceed the current stage's budget, advances a stage once its
// soak time has passed, completes after the last stage has soaked.
RolloutStep evaluate_rollout(const RolloutRecord& rollout, const RolloutCounts& counts, std::int64_t now);

// Manual actions. Each returns an error (Errc::conflict) when the action makes no sense in
// the rollout's current state.
Result<RolloutRecord> promote_rollout(const RolloutRecord& rollout, std::int64_t now);
// Approving starts a rollout created awaiting approval: running from its first stage, soaking
// from now. Anything else (approved already, halted, completed) is a conflict.
Result<RolloutRecord> approve_rollout(const RolloutRecord& rollout, std::int64_t now);
Result<RolloutRecord> halt_rollout(const RolloutRecord& rollout, const std::string& reason);
// Resuming sets the failure baseline to `failed_now` (the bundle's failures so far): those
// hosts are never offered the bundle again, and the budget counts only new failures.
Result<RolloutRecord> resume_rollout(const RolloutRecord& rollout, std::int64_t now, std::int64_t failed_now);

}  // namespace noreboot::server
