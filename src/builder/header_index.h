// The header index of one kernel: which compile units hold code that a header line can change.
//
// Problem: a fix that changes a `static inline` function in a header changes the code of every
// unit that uses it, and of no other unit. A textual include graph names 16-18x too many units
// (everything that includes the header) and misses units with their own include paths; line
// tables alone miss the units where a one-line accessor folded into its caller (measured,
// KERNEL-NOTES "Fixes that change a header").
//
// Approach: the -dbg package's DWARF. GCC keeps a DW_TAG_subprogram for every function a unit
// uses, with DW_AT_decl_file/decl_line, even when the function was inlined and folded away
// (the abstract instance, or a declaration). The index records, per compile unit (vmlinux's
// and every debug .ko's), (a) every function declared in a header: header, line of its name,
// name; and (b) the runs of header lines that its line table has rows for. A query for a
// changed header H and changed lines asks: which units hold a function declared in H whose
// definition contains a changed line, and which units have line rows in the changed lines.
// The builder then recompiles exactly those units (original and patched) and lets the differ
// say which functions really changed.
//
// Format (text, one record a line, written once per kernel, read per build):
//   noreboot-header-index 1
//   h ID PATH                 a header (tree-relative path), IDs from 0 in order
//   u OWNER SOURCE            a compile unit: OWNER "vmlinux" or the module file
//                             (kernel/fs/nfsd/nfsd.ko), SOURCE its .c file (fs/nfsd/nfs4state.c)
//   f ID LINE NAME            in the last unit: function NAME declared at header ID:LINE
//   l ID FIRST LAST           in the last unit: line rows for header ID lines FIRST..LAST
//   end UNITS FUNCS RUNS      totals; a file without it is incomplete (killed writer)
// Reading keeps only the records of the headers asked for, so a query reads the file once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "builder/c_scanner.h"
#include "core/result.h"

namespace noreboot::builder {

inline constexpr const char* kHeaderIndexMagic = "noreboot-header-index 1";

struct IndexedUnit {
  std::string owner;   // "vmlinux" or "kernel/fs/nfsd/nfsd.ko"
  std::string source;  // "fs/proc/base.c"
  bool operator<(const IndexedUnit& o) const { return owner != o.owner ? owner < o.owner : source < o.source; }
  bool operator==(const IndexedUnit& o) const { return owner == o.owner && source == o.source; }
};

// What the index says about one header.
struct HeaderFacts {
  struct Function {
    std::string name;
    int line = 0;                        // DW_AT_decl_line: the line of its name
    std::set<size_t> units;              // indexes into HeaderIndex::units
  };
  struct Run {
    int first = 0, last = 0;
    size_t unit = 0;
  };
  std::map<std::pair<int, std::string>, Function> functions;  // by (line, name)
  std::vector<Run> runs;
};

struct HeaderIndex {
  std::vector<IndexedUnit> units;                  // every unit (also those without facts)
  std::map<std::string, HeaderFacts> headers;      // only the headers asked for
};

// Writer: one unit at a time, headers numbered as they come.
class HeaderIndexWriter {
 public:
  explicit HeaderIndexWriter(std::ostream& out);
  void unit(const std::string& owner, const std::string& source);
  void function(const std::string& header, int line, const std::string& name);
  void lines(const std::string& header, int first, int last);
  void finish();
  size_t unit_count() const { return units_; }
  size_t function_count() const { return funcs_; }
  size_t run_count() const { return runs_; }

 private:
  size_t header_id(const std::string& header);
  std::ostream& out_;
  std::map<std::string, size_t> ids_;
  size_t units_ = 0, funcs_ = 0, runs_ = 0;
};

// Reads an index, keeping the facts of WANTED headers (tree-relative paths) only.
Result<HeaderIndex> read_header_index(std::istream& in, const std::set<std::string>& wanted, const std::string& what);
Result<HeaderIndex> read_header_index(const std::filesystem::path& file, const std::set<std::string>& wanted);

// A function defined in a header: its name and the lines of its definition (return type to
// closing brace), found in the header's text from the line DWARF gives for its name.
struct FunctionSpan {
  std::string name;
  int decl_line = 0;
  int first = 0, last = 0;
};

// The definition around DECL_LINE in TEXT (a header's lines, 1-based): from the first line of
// the declaration (after the previous top-level item) to the line of the matching '}' of the
// body. Nothing (first == 0) when no body follows (a prototype).
FunctionSpan function_span(const std::vector<std::string>& text, const std::string& name, int decl_line);
// The same with TEXT's code already scanned (c_scanner.h), for many functions of one header.
FunctionSpan function_span(const std::vector<std::string>& text, const std::vector<CodeLine>& code,
                           const std::string& name, int decl_line);

// A changed region of the original header: lines FIRST..LAST were removed or replaced, or
// (FIRST == LAST + 1) lines were inserted between LAST and FIRST.
struct LineChange {
  int first = 0, last = 0;
  bool only_comments = false;  // every removed and added line is blank or a comment
};

struct HeaderQuery {
  std::set<IndexedUnit> units;         // the candidate units
  std::vector<std::string> functions;  // "name (lines a-b)" of the changed functions, for the log
  std::vector<std::string> refusals;   // "lines a-b: why" for changes that are not in a function
  std::vector<LineChange> outside;     // those changes (a macro, type, declaration or data)
};

// The candidate units for the changes CHANGES of header HEADER (TEXT: its original lines).
HeaderQuery query_header(const HeaderIndex& index, const std::string& header, const std::vector<std::string>& text,
                         const std::vector<LineChange>& changes);

}  // namespace noreboot::builder
