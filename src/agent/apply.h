// Applying a bundle, reverting the applied patch: the agent's one privileged path.
//
// apply_bundle runs the checks in a fixed order and loads nothing unless all pass:
//   1. the archive is sane (read_bundle_bytes: well-formed tar, the three members, limits);
//   2. it is signed by a trusted key (config's trusted_keys + --trust) and the module's size
//      and SHA-256 match the signed manifest (verify_bundle);
//   3. the module is a livepatch whose .modinfo name is the manifest's name (the sysfs folder
//      the transition is followed through);
//   4. the target kernel is the running one: release, /proc/version and build ID (each
//      difference is one line of the error);
//   5. the sequence is higher than the highest ever applied on this kernel build (no rollback;
//      the same sequence is accepted only to reload the same bundle after a reboot);
//   6. automatic applies (daemon, reapply at boot) refuse a quarantined bundle.
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
