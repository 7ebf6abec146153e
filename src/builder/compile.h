// Compiling the touched units, original and patched, exactly as the kernel was compiled.
//
// Problem: the differ can only trust a change it sees if the original object is byte-identical
// to what the shipped kernel was built from, and the patched object differs from it only by
// the fix. Kbuild gives the exact flags, but costs ~1.5 s of start-up per make, and the cached
// tree is shared by every build: it must never be left patched, even by a killed build.
//
// Approach (three steps):
//  1. Record: the first time a unit is built for a kernel, Kbuild compiles the *original* in
//     the cached tree (`make KCFLAGS="-ffunction-sections -fdata-sections" dir/foo.o`, under
//     the tree's lock) and records the exact command in dir/.foo.o.cmd. Later builds reuse it.
//  2. Stage: copies of the touched files go to WORK/src-orig and WORK/src-patched, and patch(1)
//     applies the fix to the second copy only. The tree is never written by a patch, so there
//     is nothing to restore after a crash.
//  3. Compile (the fast path): the recorded command runs directly (sh -c, cwd = tree) with the
//     source, output and dependency paths pointed into WORK, plus `-iquote <dir of the unit>` (spelt as Kbuild spells it: it lands in DWARF)
//     (quoted includes still find the unit's neighbours) and `-ffile-prefix-map=<copy root>/=`
//     (__FILE__, WARN/BUG file names and debug info keep the tree-relative name). Every unit,
//     original and patched, compiles this way in parallel; objtool runs as recorded.
// Proof: the fast-path original must be byte-identical to Kbuild's object in the tree; the
// build checks that for every unit (a mismatch is an error, never a silent difference), and
// the shell test fast_path_matches_kbuild shows it for a built-in and a module object.
// Measured: cmdline.c 0.33 s on the fast path, 2.0 s through make.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/fix_apply.h"
#include "builder/profile.h"
#include "builder/steps.h"
#include "builder/units.h"
#include "core/result.h"

namespace noreboot::builder {

struct CompileOptions {
  int jobs = 2;
  std::filesystem::path work;        // WORK folder of this build
  StepClock* clock = nullptr;        // the build's: compile_units announces itself in the open step
                                     // (the compile pass); record_commands times Kbuild as "kbuild"
  // Searched last (-idirafter) by the patched copy only: where <noreboot/livepatch.h> is
  // (livepatch_header.h). Empty: nothing added.
  std::filesystem::path author_include;
  // Headers (tree-relative) the fixes change: the patched compile finds them in
  // WORK/src-patched before the tree (see fast_command).
  std::vector<std::string> headers;
};

// Makes sure every unit has a recorded command (running Kbuild for those that have none or
// were recorded with other flags), then fills Unit::command and the owner. modules_order may
// be empty (not checked).
Status record_commands(const KernelProfile& profile, std::vector<Unit>& units,
                       const std::filesystem::path& modules_order, const CompileOptions& opts);

// Copies the fixes' files from the tree into WORK/src-orig (the kernel's code) and
// WORK/src-patched, where every earlier fix and then the new one (the last of FIXES) are
// applied (fix_apply.h). The result says whether the new fix applies, is already in the
// source, or does not apply.
Result<FitResult> stage_sources(const KernelProfile& profile, const std::vector<FixFile>& fixes,
                                const CompileOptions& opts);

// The recorded command rewritten to compile SRC_ROOT/<unit.source> into OUT_OBJECT; EXTRA_FLAGS
// (shell text, may be empty) go just before the source. For every include folder of the
// command (-I./include) that holds one of HEADERS, SRC_ROOT's copy of that folder is searched
// first (-I<src_root>/include), with its debug file names mapped back to the tree's spelling.
// (Quoted includes of the unit's own folder find SRC_ROOT's copies already.)
std::string fast_command(const Unit& unit, const std::filesystem::path& src_root,
                         const std::filesystem::path& out_object, const std::string& extra_flags = "",
                         const std::vector<std::string>& headers = {});

struct CompiledUnit {
  Unit unit;
  std::filesystem::path original;  // WORK/orig/<object>
  std::filesystem::path patched;   // WORK/patched/<object>
  bool identical = false;          // the two objects have the same bytes (the fix changes nothing here)
};

struct CompiledUnits {
  std::vector<CompiledUnit> units;
  // One per unit whose patched copy does not compile: the fix's own error (compile_errors.h),
  // with the compiler's first error lines. When not empty, `units` must not be used.
  std::vector<Refusal> refusals;
};

// Compiles every unit original and patched on the fast path, `jobs` at a time, then checks
// each original against Kbuild's object in the tree. An original that does not compile is an
// Error ("the kernel tree/profile is broken"); a patched copy that does not compile, a refusal
// ("the fix does not compile"). Both carry the compiler's first error lines.
Result<CompiledUnits> compile_units(const KernelProfile& profile, const std::vector<Unit>& units,
                                    const CompileOptions& opts);

// The lock of PROFILE's tree: held by whoever runs Kbuild in it.
std::filesystem::path tree_lock_path(const KernelProfile& profile);

// Byte comparison of two files.
Result<bool> same_bytes(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace noreboot::builder
