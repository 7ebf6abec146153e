// The units a header change reaches, from the kernel's header index (header_index.h).
//
// Problem: a fix that changes a header changes the code of the units that use what changed,
// and only those; every one of them must be recompiled (a miss is a unit still running the
// old code), and recompiling every includer would livepatch hundreds of unchanged units.
//
// Approach: after the fix is staged (WORK/src-orig and WORK/src-patched hold the header before
// and after every fix), the changed lines come from comparing the two copies line by line.
// For each change, query_header names the units holding a function whose definition contains
// it, plus units with line rows there. A change outside every function body leaves no trace in
// DWARF: a change inside a struct, union or enum definition is refused (it changes data the
// running kernel holds); any other (a macro, declaration or data) asks the compiler which units
// it changes (header_macro.h: a sound include-graph superset narrowed by comparing each unit's
// preprocessed text with the original and the patched header), refused above a limit.
// Changes of blank and comment lines only are ignored: a pure line shift changes only
// __bug_table line data, which the differ does not patch.
// The candidate .c files are copied unchanged into both staged trees, so the compile step
// compiles them like a touched file, and the differ decides which functions really changed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/header_index.h"
#include "builder/header_macro.h"
#include "builder/profile.h"
#include "builder/units.h"
#include "core/result.h"

namespace noreboot::builder {

// The changed regions between two versions of a file (1-based lines of ORIG).
std::vector<LineChange> changed_lines(const std::vector<std::string>& orig, const std::vector<std::string>& patched);

struct HeaderUnits {
  std::vector<std::string> sources;     // the candidate .c files, sorted
  std::vector<Refusal> refusals;
};

// HEADERS (tree-relative) staged in WORK/src-orig and WORK/src-patched; INDEX the kernel's
// header index file; OPTS the limits of the compiler's answer for macro changes.
Result<HeaderUnits> units_for_headers(const KernelProfile& profile, const std::filesystem::path& index,
                                      const std::vector<std::string>& headers, const std::filesystem::path& work,
                                      const MacroOptions& opts);

// Copies each of SOURCES from the tree into WORK/src-orig and WORK/src-patched unless present
// (after record_commands: Kbuild generates some sources, such as *.asn1.c, with the object).
Status stage_unchanged_sources(const KernelProfile& profile, const std::vector<std::string>& sources,
                               const std::filesystem::path& work);

}  // namespace noreboot::builder
