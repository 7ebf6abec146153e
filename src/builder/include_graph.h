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
// A scan can start from an earlier scan of the same tree (include_graph_cache.h keeps one per
// kernel): the tree is still walked (which files exist), but a file whose size and
// modification time are those the earlier scan recorded keeps its recorded directives instead
// of being read again.
#pragma once

#include <cstdint>
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

// What identifies the version of a file a scan read: a file with another size or modification
// time is read again.
struct FileStamp {
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

// A Makefile the scan read, and the files its -include / -imacros options name.
struct ScannedMakefile {
  std::string path;                                      // tree-relative
  FileStamp stamp;
  std::vector<std::string> names;                        // scan_forced_includes
};

struct IncludeGraph {
  std::vector<std::string> files;                        // tree-relative, every scanned file
  std::vector<std::vector<IncludeEdge>> edges;           // per file
  std::vector<FileStamp> stamps;                         // per file
  std::unordered_set<std::string> exists;                // every file of the tree (but skipped folders)
  std::vector<ScannedMakefile> makefiles;
  std::vector<ForcedInclude> forced;                     // from `makefiles`
};

struct GraphScanStats {
  size_t read = 0;    // files read (C text and Makefiles)
  size_t reused = 0;  // files whose directives came from the earlier scan
};

// The include directives of one file's TEXT (directives and the macro definitions above).
std::vector<IncludeEdge> scan_include_edges(const std::string& text);

// The `-include F` / `-imacros F` options of one Makefile's TEXT, as file names.
std::vector<std::string> scan_forced_includes(const std::string& makefile_text);

// Reads TREE (jobs threads). With EARLIER (a scan of the same tree), a file whose stamp is the
// one EARLIER recorded is not read again: its directives are EARLIER's.
Result<IncludeGraph> scan_include_graph(const std::filesystem::path& tree, int jobs, const IncludeGraph* earlier = nullptr,
                                        GraphScanStats* stats = nullptr);

// The forced includes of a Makefile at PATH (tree-relative) that names NAMES: a Makefile under
// scripts/ holds the flags of every unit (dir ""), any other those of its folder.
std::vector<ForcedInclude> forced_includes_of(const std::string& path, const std::vector<std::string>& names);

// True when an edge of file FROM (tree-relative) spelled as E may name TARGET.
bool edge_may_reach(const IncludeGraph& graph, const std::string& from, const IncludeEdge& e, const std::string& target);

struct Reach {
  std::unordered_set<std::string> files;   // every file from which HEADER may be reached (HEADER too)
  std::vector<ForcedInclude> forced;       // forced includes through which it is reached
};

// The reverse closure from HEADER (tree-relative).
Reach files_reaching(const IncludeGraph& graph, const std::string& header);

}  // namespace noreboot::builder
