// Applying a bundle, reverting the applied patch: the agent's one privileged path.
//
// apply_bundle reads the host's facts (running kernel, live patches, state) and hands them to
// verify_for_host (verify.h), which runs every check in a fixed order with no I/O: archive,
// signature and module hash, livepatch module name, target kernel, no rollback, quarantine.
// Nothing is loaded unless all pass; a refusal is journalled as "failed".
// Then: journal "loading" (with the candidate patch, one fsync'ed write) -> finit_module from a memfd -> journal
// "transition" -> follow it (signal, reverse on timeout, report blockers) -> journal "live",
// state.applied, last-good bundle saved, replaced modules unloaded -> watch the kernel log for
// trouble for watch_seconds. The time from "bundle bytes in memory" to the finit_module call is
// measured and reported (the agent's own overhead; the kernel's transition comes on top).
#pragma once

#include <string>
#include <vector>

#include "agent/context.h"
#include "agent/startup.h"
#include "agent/transition.h"
#include "core/bytes.h"
#include "core/manifest.h"

namespace noreboot::agent {

struct ApplyOptions {
  bool automatic = false;  // daemon or reapply-at-boot: quarantined bundles are refused
  std::string origin;      // "file fix.nrp", "server", "last-good": for messages
};

struct ApplyReport {
  Manifest manifest;
  std::string bundle_sha256;
  bool already_live = false;         // the same bundle was already live: nothing done
  TransitionOutcome transition;
  std::vector<std::string> kernel_warnings;  // trouble in the kernel log after the load
  double prep_ms = 0;                // bundle in memory -> finit_module call
  double load_ms = 0;                // the finit_module call itself
  std::string summary;               // one line for people
};

// Errc::invalid_input / signature / integrity / refused: a check failed, nothing was loaded.
// Errc::timeout: loaded, but the transition did not finish: reversed and unloaded.
Result<ApplyReport> apply_bundle(AgentContext& ctx, ByteView bundle, const ApplyOptions& options);

struct RevertReport {
  std::string patch_name;
  double seconds = 0;
  std::string summary;
};
// Disables the applied patch, waits for the unpatching transition, unloads the module and
// forgets the last-good bundle (a reverted patch is not reapplied after a reboot).
Result<RevertReport> revert_applied(AgentContext& ctx);

// Runs assess_startup with the facts on disk and in the kernel, saves what changed.
// Returns the decision (the daemon uses reapply_allowed).
Result<StartupDecision> reconcile_at_start(AgentContext& ctx);

}  // namespace noreboot::agent
