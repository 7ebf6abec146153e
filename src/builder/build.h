// One noreboot-build run: from a fix and a target kernel to a signed bundle.
//
// run_build (build.cc) is a list of named passes over one BuildContext (build_context.h:
// configuration in, each pass's results out), each timed by one StepTimer (steps.h). In order
// (build_passes.h says what each reads and writes):
//   fix       read, check (UTF-8) and parse the fix; before anything is downloaded
//   units     classify the fix's files: .c units, headers, refusals, ignored files
//   prepare   the kernel profile (fetched and prepared once per ABI, cached), or --tree
//   baseline  with --on-top-of: the earlier cumulative patch for this kernel and its files
//   work      the work folder and the fixes written into it; "no change" if no C is touched
//   stage     earlier fixes and the fix applied to copies of the touched files (the cached
//             tree stays pristine); "already fixed" / "does not apply" end here
//   headers   when a header changes: the units it reaches (header index)
//   record    Kbuild's exact command per unit (sub-step kbuild: first time per kernel only)
//   compile   original and patched objects on the fast path, checked against Kbuild
//   diff      per object: changed and new functions, or refusals (src/diff)
//   verify    the original of every replaced function equals the shipped kernel's code
//   klp       one livepatch module for all objects (src/klp)
//   sign      with --module-sign-key: the kernel's sign-file appends a PKCS#7 signature
//   bundle    the module, manifest and signature in OUT.nrp (src/core)
// Refusals accumulate across units and are all printed before the run stops (exit 3).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/compile.h"
#include "builder/fix_apply.h"
#include "builder/profile.h"
#include "builder/steps.h"
#include "builder/units.h"
#include "core/manifest.h"
#include "core/result.h"

namespace noreboot::builder {

// The cumulative patch a build extends (--on-top-of): its fixes are applied first, and the new
// bundle carries them all, with a higher sequence and another module name.
struct Baseline {
  std::filesystem::path bundle;
  Manifest manifest;                         // verified: signed by the key this build signs with
};

struct BuildConfig {
  std::string kernel;                        // debian:ABI | debian:current (or empty with tree)
  std::vector<std::string> kernels;          // every --kernel given (debian:all allowed); see kernels.h
  std::vector<std::filesystem::path> on_top_of;  // --on-top-of BUNDLE|DIR (earlier cumulative patches)
  std::map<std::string, Baseline> baselines; // loaded from on_top_of, by kernel release (load_baselines)
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
  // --header-unit-limit N: a macro change in a header is refused when more units than this
  // preprocess differently with it (header_macro.h).
  size_t header_unit_limit = 200;
  enum class Stop { bundle, compile } stop = Stop::bundle;  // `compile` subcommand stops early
};

enum class Outcome {
  built,            // a bundle was written
  refused,          // a change cannot be patched safely (refusals say why)
  no_change,        // the fix changes no object
  already_fixed,    // the kernel's source already contains the fix: nothing to patch
  does_not_apply,   // the fix does not apply to this kernel's source (detail: patch's words)
  unavailable,      // the archive does not serve what a build of this kernel needs
};
std::string_view outcome_name(Outcome outcome);  // for people: "already fixed"
std::string_view outcome_key(Outcome outcome);   // for JSON (summary.json, fix record): "already_fixed"

struct BuildResult {
  Outcome outcome = Outcome::built;
  std::vector<Refusal> refusals;
  std::vector<CompiledUnit> units;
  std::filesystem::path work;
  std::string bundle;                        // what was written (one line)
  std::string detail;                        // does_not_apply / unavailable: why
  std::string abi, version;                  // the kernel built for
  std::string module_name;
  std::uint64_t sequence = 0;
  StepClock clock;
};

// Runs the passes; refusals and "no change" are outcomes, everything else an Error.
Result<BuildResult> run_build(const BuildConfig& config);

// Reads every bundle of PATHS (files, or folders of *.nrp), checks that each is signed by the
// key this build signs with (KEY, or the default publisher key), and keeps the highest
// sequence per kernel release. A bundle without its source fixes (made before bundles carried
// them) cannot be built upon: an error naming it.
Result<std::map<std::string, Baseline>> load_baselines(const std::vector<std::filesystem::path>& paths,
                                                      const std::filesystem::path& key);

// The earlier fixes of BASELINE (may be null) written as files into DIR/fixes and parsed, then
// the new fix (CONFIG.patch, parsed as PATCH): what stage and the multi-kernel probe apply.
Result<std::vector<FixFile>> fix_files(const BuildConfig& config, const Baseline* baseline, const PatchSet& patch,
                                       const std::filesystem::path& dir);

// The --fix ID:text arguments as fix ids and descriptions.
std::vector<Fix> fixes_of(const BuildConfig& config);

// Resolves the profile from --kernel or --tree (prepares it when needed; the fetch and prepare
// sub-steps are timed in CLOCK).
Result<KernelProfile> resolve_profile(const BuildConfig& config, StepClock& clock);

}  // namespace noreboot::builder
