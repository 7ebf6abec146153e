// One fix, many kernels: the build of a fix for every kernel a fleet runs.
//
// Problem: the hosts that need a live patch are the ones still running an older kernel, and a
// Debian fleet runs many (bookworm's archive serves 6.1.0-47 ... 6.1.0-57 at once). Each kernel
// must be built from its own exact source, and for each the answer differs: the fix builds;
// its source already contains the fix (the newest kernel, usually: not an error); the fix does
// not apply (the code around it differs: a backport is needed); the differ refuses a change;
// or the archive serves only the image, so nothing can be built honestly.
//
// Approach, per kernel, in order (one line of progress per step, "[kernel 2/7] ABI ..."):
//   1. resolve: `kernel-fetch --list PATTERN` names every ABI a spec means (debian:all: the
//      series and flavour of linux-image-amd64), its Debian version and what the archive lacks;
//   2. probe: before any tree is prepared, the fix (after the earlier fixes of --on-top-of) is
//      tried on the touched files of that kernel's exact source: the prepared tree when there
//      is one, else the files extracted once from its linux-source package (cached per
//      version in the kernel's folder). "Already fixed" and "does not apply" cost no tree, no
//      -dbg package and no compile;
//   3. build: run_build for that kernel alone, into DIR/<ABI>.nrp.
// Kernels share the download folder; each tree is prepared once and then reused. A failure of
// one kernel is reported on its line and the others go on. DIR/summary.json records the
// outcome of every kernel (the fix record of the fleet side builds on it).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/build.h"
#include "core/result.h"

namespace noreboot::builder {

struct KernelTarget {
  std::string abi;                   // 6.1.0-56-amd64
  std::string version;               // 6.1.192-2
  bool complete = false;             // the archive serves headers, -dbg and linux-source at `version`
  std::string missing;               // when not complete: the packages it lacks
  bool from_pattern = false;         // named by debian:all or a pattern, not one by one
};

// debian:ABI, debian:current, debian:all (or a kernel-fetch --list pattern: debian:6.1.0-*-amd64).
Result<std::vector<KernelTarget>> resolve_kernels(const std::vector<std::string>& specs,
                                                  const std::filesystem::path& kernel_fetch);

struct KernelReport {
  KernelTarget target;
  Outcome outcome = Outcome::built;
  bool failed = false;               // an error (detail says which); outcome is meaningless then
  std::string detail;                // does not apply / unavailable / error: why
  std::vector<Refusal> refusals;
  std::filesystem::path bundle;      // DIR/<ABI>.nrp when built
  std::string module_name;
  std::uint64_t sequence = 0;
  double seconds = 0;
};

// Builds CONFIG's fix for every kernel of CONFIG.kernels into the folder CONFIG.output.
Result<std::vector<KernelReport>> run_kernels(const BuildConfig& config);

// One line per kernel, for people.
std::string format_kernel_summary(const std::vector<KernelReport>& reports);
// DIR/summary.json
Status write_kernel_summary(const std::filesystem::path& dir, const BuildConfig& config,
                            const std::vector<KernelReport>& reports);
// 0 when every kernel was built or already fixed (a kernel that debian:all names but the
// archive cannot build is reported, not counted); 3 when the differ refused a change or the
// fix does not apply to a kernel; 1 when a kernel failed or was named alone and is not buildable.
int kernels_exit_code(const std::vector<KernelReport>& reports);

}  // namespace noreboot::builder
