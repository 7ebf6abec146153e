// The include graph of a kernel's prepared tree, kept between builds.
//
// Problem: a header change outside every function asks the include graph (include_graph.h)
// who may include the header, and reading the ~53,000 files of the tree for their directives
// took ~45 s on every such build, though a cached, prepared tree does not change (KERNEL-NOTES,
// docs/benchmarks.md "Header macro changes").
//
// Approach: the graph of a cached tree (KDIR/tree, prepared when KDIR/tree.done exists) is
// kept in KDIR/include-graph, one record a line:
//   noreboot-include-graph 1             the format (and what a scan records): a newer noreboot
//                                        that records other facts bumps it, and rebuilds
//   key TREE|STAMP|MTIME_NS              the tree's path, tree.done's content and modification
//                                        time: a tree prepared again gets a new key
//   f MTIME_NS SIZE PATH                 a file read for its directives
//   e FLAGS SPELLED                      one directive of that file (FLAGS: q quoted, n any
//                                        file of that name, - neither)
//   m MTIME_NS SIZE PATH                 a Makefile read for -include / -imacros
//   i NAME                               one file that Makefile forces
//   end FILES EDGES MAKEFILES SHA256     totals and the SHA-256 of every line before it; a file
//                                        without it is incomplete, one that does not match corrupt
// A build still walks the tree (which files exist: a file Kbuild generated since, such as a
// *.asn1.c, is seen) and reads again only the files whose size or modification time differ
// from the record; the record is rewritten when any did. It is read, and written (to a
// temporary name, fsynced, renamed), under the tree's lock (KDIR/.tree.lock), so a prepare or
// a cache prune cannot change the tree in the middle of a scan, and two builds do not both
// write it. A file that does not parse (another key, another format, truncated, corrupt) is
// not trusted: the tree is scanned in full and the file replaced.
// Trade-off: the walk and a stat of every C file remain (~1-3 s warm); a file edited in place
// with its size and modification time restored would keep its old directives (the prepared
// tree is never edited; builds compile into it, they do not change its sources).
#pragma once

#include <filesystem>
#include <string>

#include "builder/include_graph.h"
#include "builder/profile.h"
#include "core/result.h"

namespace noreboot::builder {

inline constexpr const char* kIncludeGraphMagic = "noreboot-include-graph 1";

// The graph as the cache file's text, for KEY.
std::string include_graph_text(const IncludeGraph& graph, const std::string& key);

// The graph of a cache file's TEXT (exists is left empty: a scan fills it). Errc::invalid_input
// naming WHAT when it is not a complete graph of KEY.
Result<IncludeGraph> parse_include_graph(const std::string& text, const std::string& key, const std::string& what);

struct GraphCacheUse {
  bool cached = false;       // a cache file was found and trusted
  std::string not_trusted;   // why a cache file that exists was not (empty: none, or trusted)
  bool written = false;      // the cache file was (re)written
  GraphScanStats scan;
};

// TREE's graph: CACHE (when it holds one for KEY) refreshed by a scan, written back when the
// scan read anything. The caller holds the lock that keeps the tree and CACHE still.
Result<IncludeGraph> load_or_scan_include_graph(const std::filesystem::path& tree, const std::filesystem::path& cache,
                                                const std::string& key, int jobs, GraphCacheUse* use = nullptr);

// PROFILE's tree's graph: cached in KDIR/include-graph under KDIR/.tree.lock when the tree is a
// cached, prepared one; scanned in full otherwise (a tree of the user's can change any time).
Result<IncludeGraph> include_graph_of(const KernelProfile& profile, int jobs, GraphCacheUse* use = nullptr);

}  // namespace noreboot::builder
