// The units a macro (or declaration, or data) change in a header reaches: ask the compiler.
//
// Problem: a changed `#define` in a header leaves no trace in DWARF (header_index.h), yet it
// changes the code of every unit that expands it, and of no other. Missing one leaves a unit
// running the old code; recompiling every includer is slow and, past a few hundred units,
// not a fix anyone should ship as a livepatch.
//
// Approach, each step sound on its own:
//  1. A superset: every unit of this kernel (the header index's unit list: vmlinux's and every
//     module's compile units) that may include the header, directly or through other files,
//     by the textual include graph (include_graph.h: include paths, computed includes and
//     Makefile -include covered). A file that may reach the header but is not such a unit —
//     assembly, or C built into a blob (boot code, vDSO, real mode, purgatory) — cannot be
//     livepatched: the change is refused, naming it.
//  2. Narrowed by the preprocessor: Kbuild itself preprocesses every candidate once
//     (`make dir/foo.i`, its real flags recorded in dir/.foo.i.cmd, under the tree's lock);
//     that command is replayed twice, with the original and with the patched headers (the
//     same rewrite the compile step uses, compile.h), and the outputs compared with the copy
//     folders' names taken out. Identical text (line markers included) is identical input to
//     the compiler: that unit's object cannot change, and it drops out. A unit whose patched
//     text still names the tree's copy of the header (reached through a file the builder does
//     not stage) is refused: its patched compile would not see the fix.
//  3. Limits: more candidates than `preprocess_limit` (step 1), or more units left than
//     `unit_limit` (step 2, --header-unit-limit), is a refusal naming the header, its lines and
//     the count. The units left are compiled like touched files; the differ decides.
// A change inside a struct, union or enum definition (or a typedef of one) is refused before
// any of this: it changes the layout or the meaning of data the running kernel already holds.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/header_index.h"
#include "builder/include_graph.h"
#include "builder/profile.h"
#include "builder/units.h"
#include "core/result.h"

namespace noreboot::builder {

struct MacroOptions {
  size_t unit_limit = 200;         // units left after the preprocessor narrowed them
  size_t preprocess_limit = 1000;  // units the include graph names (each one preprocessed twice)
  int jobs = 2;
};

// A struct/union/enum definition of a header's text: lines FIRST..LAST (1-based).
struct TypeSpan {
  std::string name;  // "struct proc_dir_entry", "enum proc_hidepid"
  int first = 0, last = 0;
};

// Every top-level struct, union and enum definition in TEXT (a typedef of one included);
// initialised data (`struct foo bar = { ... }`) and functions are not types.
std::vector<TypeSpan> type_spans(const std::vector<std::string>& text);

struct MacroReach {
  std::vector<std::string> sources;  // the units whose preprocessed text changes, sorted
  std::vector<Refusal> refusals;
};

// HEADER (tree-relative) changed outside every function body (WHAT: "line 162", for messages).
// HEADERS: every header the fixes change, staged in WORK/src-orig and WORK/src-patched.
Result<MacroReach> units_by_preprocessing(const KernelProfile& profile, const HeaderIndex& index,
                                          const IncludeGraph& graph, const std::string& header, const std::string& what,
                                          const std::vector<std::string>& headers, const std::filesystem::path& work,
                                          const MacroOptions& opts);

// Preprocessor output with the copy folder ROOT ("/tmp/w/src-orig") taken out of every path.
std::string without_root(const std::string& text, const std::string& root);

// True when the preprocessor output TEXT has a line marker naming HEADER by a tree-relative
// path (not a copy under a staged root, which starts with '/').
bool names_tree_copy(const std::string& text, const std::string& header);

}  // namespace noreboot::builder
