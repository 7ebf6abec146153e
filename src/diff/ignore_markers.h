// The patch author's ignore markers: changes a fix makes on purpose, or as a side effect, that
// must not be patched.
//
// Problem: some changes in PATCHED are not the fix. A WARN() moved by the fix embeds a new
// line number in an unrelated function; kpatch's syscall wrappers add entries to
// `__syscalls_metadata`. kpatch's authors mark them with KPATCH_IGNORE_FUNCTION(fn) and
// KPATCH_IGNORE_SECTION("name"), documented in kpatch's kpatch-macros.h as: the function
// "may change as a side effect of a change in another function" and is not to be patched; the
// section's changes are side effects, or the section does not follow -ffunction-sections. A
// fix written for kpatch should build here unchanged, with the same meaning.
//
// Approach: noreboot's own kpatch-macros.h (src/builder/include) turns each marker into a
// pointer in a marker section of PATCHED: `.noreboot.ignore.functions` holds the address of
// each ignored function, `.noreboot.ignore.sections` the address of a string naming each
// ignored section (kpatch's own header uses `.kpatch.ignore.functions` / `.sections` the same
// way; both names are read, so a fix that carries a copy of kpatch's header works too). The
// marker sections are metadata: object_index classifies them as ignored, so they are never
// diffed, reported or copied. Before classification, read_ignore_markers() resolves the markers
// through the marker sections' relocations and returns, per PATCHED unit, whether the author
// ignored it:
//  - KPATCH_IGNORE_FUNCTION(fn): the function fn (and its `.cold` parts, which follow it) is
//    treated as unchanged: not patched, not refused, not reported. Naming something that is not
//    a function defined in the file is refused (a marker that ignores nothing is a mistake).
//  - KPATCH_IGNORE_SECTION("name"): every unit in the section `name` (".rela" + name means the
//    same section) is treated as unchanged, and so never patched, refused or reported as new.
//    A name no section of PATCHED has is refused, naming it.
//  - KPATCH_IGNORE_STATIC("name"): never a kpatch macro (kpatch has no such macro in its
//    history); noreboot's header defines it as "the static local variable `name` (any
//    compiler suffix, name.N) is not data the fix changes": its units are treated as
//    unchanged, so a changed initializer of such a variable is not refused. Same marker
//    mechanism, section `.noreboot.ignore.statics`.
// Trade-off: an ignored change is the author's claim that it needs no patching: the differ
// trusts it, as kpatch does. An ignored function is still referenced (by its ORIG name) by any
// patched function that calls it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diff/differ.h"
#include "diff/object_index.h"

namespace noreboot::diff {

struct IgnoreMarkers {
  std::vector<bool> ignored;            // per PATCHED unit
  std::vector<std::string> functions;   // names given to KPATCH_IGNORE_FUNCTION
  std::vector<std::string> sections;    // names given to KPATCH_IGNORE_SECTION
  std::vector<std::string> statics;     // names given to KPATCH_IGNORE_STATIC
  std::vector<Refusal> refused;         // markers that name nothing, or something not allowed
};

// True for the sections that hold markers (metadata, never diffed).
bool is_ignore_marker_section(std::string_view name);

// Reads the markers of PATCHED (`P`).
IgnoreMarkers read_ignore_markers(const ObjectIndex& P);

}  // namespace noreboot::diff
