// One noreboot-build run: from a fix and a target kernel to a signed bundle.
//
// The run is a list of named passes over one BuildContext (configuration in, intermediate
// results out), each timed:
//   prepare   the kernel profile (fetched and prepared once per ABI, cached)
//   units     which translation units the fix touches; refusals for what cannot be patched
//   record    Kbuild's exact command per unit (first time per kernel only)
//   stage     the fix applied to copies of the touched files (the cached tree stays pristine)
//   compile   original and patched objects on the fast path, checked against Kbuild
//   diff      per object: changed and new functions, or refusals (src/diff)
//   verify    the original of every replaced function equals the shipped kernel's code
//   klp       one livepatch module for all objects (src/klp)
//   bundle    the module, manifest and signature in OUT.nrp (src/core)
// Refusals accumulate across units and are all printed before the run stops (exit 3).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "build/compile.h"
#include "build/profile.h"
#include "build/steps.h"
#include "build/units.h"
#include "core/result.h"

namespace noreboot::build {

struct BuildConfig {
  std::string kernel;                        // debian:ABI | debian:current (or empty with tree)
  std::filesystem::path tree;                // --tree DIR
  std::filesystem::path patch;               // --patch FIX.patch
  std::filesystem::path output;              // -o OUT.nrp
  std::filesystem::path key;                 // --key KEY (ed25519 secret key)
  std::optional<uint64_t> sequence;          // --sequence N
  std::vector<std::string> fixes;            // --fix CVE-ID:text
  std::string name;                          // --name NAME (livepatch module name)
  std::filesystem::path keep_work;           // --keep-work DIR
  std::filesystem::path module_sign_key;     // --module-sign-key KEY.pem (PKCS#7 module signature)
  std::filesystem::path module_sign_cert;    // --module-sign-cert CERT.pem
  std::filesystem::path kernel_fetch;        // override for scripts/kernel-fetch
  int jobs = 2;
  enum class Stop { bundle, compile } stop = Stop::bundle;  // `compile` subcommand stops early
};

enum class Outcome { built, refused, no_change };

struct BuildResult {
  Outcome outcome = Outcome::built;
  std::vector<Refusal> refusals;
  std::vector<CompiledUnit> units;
  std::filesystem::path work;
  std::string bundle;                        // what was written (one line)
  StepClock clock;
};

// Runs the passes; refusals and "no change" are outcomes, everything else an Error.
Result<BuildResult> run_build(const BuildConfig& config);

// Resolves the profile from --kernel or --tree (prepares it when needed).
Result<KernelProfile> resolve_profile(const BuildConfig& config, StepClock& clock);

}  // namespace noreboot::build
