// Who may include a header: a textual include graph of the kernel tree, sound by construction.
//
// Problem: a macro, type or data change in a header leaves no trace in DWARF (header_index.h),
// so the units it reaches must be found another way. The exact answer (`gcc -M` of every unit
// with its real flags) costs 15-30 minutes per kernel; a plain textual graph misses units that
// reach a header through their own include paths (three nouveau files, KERNEL-NOTES "Fixes
// that change a header"), through a computed `#include MACRO`, or through a Makefile's
// `-include FILE`.
//
// Approach: a superset, never a miss. Every file of the tree (but Documentation/ and tools/)
// is read once for its `#include`/`#include_next` directives. An edge "X includes S" may reach
// a file T when T's name ends with S's name (the folder S is found in is one of the -I paths
// of X's unit, which the graph does not know), except that a quoted S found next to X is X's
// include and nothing else (the compiler looks there first). A spelling with ".." may reach any
// file of the same name. Computed includes are covered by their definitions: a `#define NAME
// "x.h"` (or <x.h>) is an edge from the defining file, and the tracepoint machinery's
// `#define TRACE_INCLUDE_FILE name` / `TRACE_SYSTEM name` an edge to any "name.h" (define_trace.h
// includes that file again by its computed name). A Makefile's `-include F` / `-imacros F` makes
// every file under the Makefile's folder include any file named like F (a Makefile under
// scripts/, such as Makefile.lib's -include of compiler_types.h, and the top Makefile's of
// kconfig.h: every unit).
// The reverse closure from the changed header H (every file from which H may be reached) is the
// candidate set; the compiler then narrows it exactly (header_macro.h). Measured on 6.1 (cold
// page cache, load 10-20): ~25 s to read the tree.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.h"

namespace noreboot::builder {

struct IncludeEdge {
  std::string spelled;         // as written: "internal.h", "linux/list.h", "../proc/internal.h"
  bool quoted = false;         // "..." (searched next to the including file first)
  bool name_only = false;      // any file of that name (computed includes, "..")
};

// A forced include from a Makefile: every file under DIR ("" = the whole tree) includes NAME.
struct ForcedInclude {
  std::string dir;
  std::string name;            // a file name ("kconfig.h")
  std::string makefile;        // where it was found, for the log
};

struct IncludeGraph {
  std::vector<std::string> files;                        // tree-relative, every scanned file
  std::vector<std::vector<IncludeEdge>> edges;           // per file
  std::unordered_set<std::string> exists;                // every file of the tree (but skipped folders)
  std::vector<ForcedInclude> forced;
};

// The include directives of one file's TEXT (directives and the macro definitions above).
std::vector<IncludeEdge> scan_include_edges(const std::string& text);

// The `-include F` / `-imacros F` options of one Makefile's TEXT, as file names.
std::vector<std::string> scan_forced_includes(const std::string& makefile_text);

// Reads TREE (jobs threads).
Result<IncludeGraph> scan_include_graph(const std::filesystem::path& tree, int jobs);

// True when an edge of file FROM (tree-relative) spelled as E may name TARGET.
bool edge_may_reach(const IncludeGraph& graph, const std::string& from, const IncludeEdge& e, const std::string& target);

struct Reach {
  std::unordered_set<std::string> files;   // every file from which HEADER may be reached (HEADER too)
  std::vector<ForcedInclude> forced;       // forced includes through which it is reached
};

// The reverse closure from HEADER (tree-relative).
Reach files_reaching(const IncludeGraph& graph, const std::string& header);

}  // namespace noreboot::builder
