// The state of one noreboot-build run, handed from pass to pass (build.h lists the passes).
//
// Every pass is a function `Status pass(BuildContext&)`: it reads the configuration and what the
// passes before it wrote, and writes its own results here. A pass that decides how the build
// ends (a refusal, "no change", "already fixed", "does not apply", or the `compile` subcommand's
// early stop) calls stop(), and the passes after it do not run; an Error ends the build too.
// Nothing lives in globals, so one process can run several builds in turn (--kernel debian:all).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/build.h"
#include "builder/compile.h"
#include "builder/fix_apply.h"
#include "builder/livepatch.h"
#include "builder/patch_set.h"
#include "builder/profile.h"
#include "builder/units.h"
#include "core/result.h"

namespace noreboot::builder {

struct BuildContext {
  explicit BuildContext(const BuildConfig& c) : config(c) {}

  // In: the command line, parsed (and the --on-top-of bundles, loaded).
  const BuildConfig& config;

  // Out: what run_build returns (outcome, refusals, compiled units, bundle, the step clock).
  BuildResult result;
  bool stopped = false;  // a pass decided the outcome: the rest do not run

  // Written by the passes, in pass order.
  std::string patch_text;              // fix: the fix as given (goes into the manifest)
  PatchSet patch;                      // fix: parsed
  TouchedFiles touched;                // units (and baseline: earlier fixes' files joined)
  KernelProfile profile;               // prepare
  const Baseline* baseline = nullptr;  // baseline: the earlier patch for this kernel, if any
  std::vector<FixFile> fixes;          // work: earlier fixes, then this one, as files in WORK
  CompileOptions compile;              // work: jobs, WORK, clock, author include; headers: headers
  std::vector<std::string> sources;    // work: the touched .c files; headers: plus the units reached
  std::vector<Unit> units;             // record: each source with its recorded command and owner
  DiffSummary diffs;                   // diff: per unit, changed and new functions
  std::filesystem::path module;        // klp: WORK/klp/<name>.ko (sign appends its signature)

  // Ends the build with OUTCOME after this pass.
  void stop(Outcome outcome) {
    result.outcome = outcome;
    stopped = true;
  }
  // Ends the build refused, with every refusal.
  void refuse(std::vector<Refusal> refusals) {
    result.refusals = std::move(refusals);
    stop(Outcome::refused);
  }
};

// One pass: its name (the step in progress lines and in the `timings:` block), what it does,
// and, for a pass that only some builds need, when it runs.
struct BuildPass {
  std::string_view name;
  Status (*run)(BuildContext&);
  bool (*wanted)(const BuildContext&) = nullptr;  // null: every build
};

}  // namespace noreboot::builder
