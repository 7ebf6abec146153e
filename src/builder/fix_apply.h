// Applying a fix (and the earlier fixes of a cumulative patch) to copies of a kernel's source,
// and telling "applies" from "already fixed" from "does not apply".
//
// Problem: one fix is built for many kernels. On the newest one its source often already
// contains the fix (Debian shipped it): that is good news, not an error, and must be told
// apart from a fix that does not apply because the code around it differs (the author needs a
// backport). A cumulative patch is the kernel's source plus every earlier fix plus the new one,
// so the earlier fixes must apply first, in their order.
//
// Approach: patch(1), always on copies (the cached tree is never written), always with
// --dry-run before the real run so a half-applying fix never leaves a half-patched copy:
//   1. copy the files every fix touches from SOURCE_ROOT (a prepared tree, or the files
//      extracted from the kernel's linux-source package) into DEST;
//   2. apply each earlier fix for real; one that does not apply is an error (it was built for
//      this kernel, so the bundle or the kernel is not what the caller thinks);
//   3. the new fix: --dry-run forward; if that fails, --dry-run --reverse: if the reversed fix
//      applies cleanly, every hunk is already in the source: already fixed. Otherwise it does
//      not apply, with patch's own words. Only a clean forward dry-run is applied for real.
// Trade-off: "already fixed" means the fix's exact text is in the source (as for a Debian
// security update on the kernel that shipped it). A fix that was backported with different
// context reads as "does not apply", which a person then looks at: never a false "fixed".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/patch_set.h"
#include "core/result.h"

namespace noreboot::builder {

struct FixFile {
  std::filesystem::path file;   // the unified diff on disk
  std::string name;             // for messages: "ext4-mballoc.patch" or "earlier fix 1 (ext4.patch)"
  PatchSet patch;               // parsed (files, strip level)
};

enum class FixFit { applies, already_fixed, does_not_apply };
std::string_view fix_fit_name(FixFit fit);

struct FitResult {
  FixFit fit = FixFit::applies;
  std::string detail;           // patch's output when it does not apply
};

// Every file the fixes touch, once, in order of appearance (added files included).
std::vector<FileChange> touched_files(const std::vector<FixFile>& fixes);

// Copies the touched files from SOURCE_ROOT to DEST (files the fixes add are skipped; a file
// a fix modifies that SOURCE_ROOT lacks makes the new fix "does not apply"), applies the
// earlier fixes (all but the last of FIXES) and then the last one if it fits. WHAT names the
// source in messages ("6.1.0-56-amd64 (6.1.192-2)"). LOG receives patch's output.
Result<FitResult> apply_fixes(const std::filesystem::path& source_root, const std::filesystem::path& dest,
                              const std::vector<FixFile>& fixes, const std::string& what,
                              const std::filesystem::path& log);

}  // namespace noreboot::builder
