// From compiled object pairs to a signed bundle: the differ, the livepatch module, the bundle.
//
// These three passes glue other parts together; each is small on purpose:
//  - diff_units: runs the object differ (src/diff) on every changed unit and collects what it
//    found (changed and new functions, references) and every refusal, prefixed with the unit;
//    the differ's output objects go to WORK/diff/<object>.
//  - make_module: hands those objects to the livepatch module generator (src/klp), one patch
//    object per unit with its target (vmlinux or the module's name), the functions to replace
//    (with the kernel's names) and which references were file-static in the original unit
//    (those need sympos). It gets back a .ko.
//  - write_signed_bundle: the manifest (target identity read from the image itself, never from
//    the machine we run on; sequence; fixes) plus the module, signed with the publisher key.
// Parts not present in this build (the CMake targets noreboot_diff, noreboot_klp) make the
// corresponding pass an Error that says so: never a silent skip.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/build.h"
#include "builder/compile.h"
#include "builder/profile.h"
#include "core/keys.h"
#include "core/manifest.h"
#include "core/result.h"

namespace noreboot::builder {

struct UnitDiff {
  CompiledUnit unit;
  std::filesystem::path output;              // the differ's output object
  std::vector<std::string> changed;          // ORIG names
  std::vector<std::string> added;            // new functions
  std::vector<std::pair<std::string, std::string>> replaced;  // (patched name, kernel name)
  std::vector<std::string> local_references; // undefined refs that were static in ORIG
};

struct DiffSummary {
  std::vector<UnitDiff> units;               // units with a patchable change
  std::vector<Refusal> refusals;
};

Result<DiffSummary> diff_units(const std::vector<CompiledUnit>& units, const std::filesystem::path& work);

// Builds WORK/klp/<name>.ko from the differ outputs; returns its path.
Result<std::filesystem::path> make_module(const KernelProfile& profile, const DiffSummary& diffs,
                                          const std::string& module_name, const std::filesystem::path& work);

struct BundleRequest {
  std::filesystem::path module;
  std::string name;
  std::uint64_t sequence = 1;
  std::vector<Fix> fixes;                    // earlier fixes first, then this build's
  std::vector<SourcePatch> sources;          // the fixes' diffs, in the order they were applied
  std::filesystem::path key;                 // empty: the default publisher key (created if missing)
  std::filesystem::path output;
};

// Returns a one-line description of what was written (key id, sizes).
Result<std::string> write_signed_bundle(const KernelProfile& profile, const BundleRequest& req);

// "fix-cmdline.patch" -> "nr_fix_cmdline" (a valid module name, <= 55 chars).
std::string default_module_name(const std::filesystem::path& patch);

// ~/.config/noreboot/publisher.key (XDG_CONFIG_HOME honoured).
std::filesystem::path default_key_path();
// KEY, or the default publisher key (created on first use; `note` then says so and names the
// .pub hosts must trust). Bundles and fix records are signed with it.
Result<SecretKey> load_publisher_key(const std::filesystem::path& key, std::string& note);

}  // namespace noreboot::builder
