// The object differ: what did a fix change, at the ELF level, and can it be patched safely.
//
// Input: ORIG.o (the file as the running kernel was built from it) and PATCHED.o (the same file
// with the fix), both compiled with -ffunction-sections -fdata-sections. Output: a DiffResult
// naming every changed and new function, every refused change (symbol, reason, what to do),
// and an output object holding only what a livepatch needs (see docs/differ.md for the
// contract with the klp stage).
//
// The passes, in order (diff_objects in differ.cc reads as this list):
//   1. index both objects into units (object_index.h)
//   2. correlate units: every patched unit with its twin in ORIG (correlate.cc)
//   3. classify: same / changed / new by fingerprint (fingerprint.h); collect refusals
//   4. include: changed and new functions, and what must travel with them
//   5. emit the output object, with special-section entries split per function (output.cc)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "elf/object.h"

namespace noreboot::diff {

struct Refusal {
  std::string symbol;
  std::string reason;
  std::string hint;  // what the patch author can do
};

enum class ChangeKind { changed, added };

struct FunctionChange {
  std::string name;          // the name in ORIG (what the running kernel calls it); for new ones, in PATCHED
  std::string patched_name;  // the name in PATCHED (differs when GCC renumbered a clone)
  ChangeKind kind = ChangeKind::changed;
  uint8_t bind = 0;          // STB_LOCAL / STB_GLOBAL / STB_WEAK in ORIG (PATCHED for new ones)
  std::string section;       // the section name in PATCHED
};

// A symbol the output object references but does not define (st_shndx == SHN_UNDEF).
struct Reference {
  std::string name;            // exactly as named in the output object's symbol table
  uint8_t bind = 0;            // binding in ORIG: STB_LOCAL means file-static (needs sympos)
  uint8_t type = 0;            // STT_FUNC / STT_OBJECT / STT_NOTYPE
  bool defined_in_object = false;  // defined in ORIG (false: an extern the file used)
};

// A changed compiler clone (`foo.isra.0`, `foo.constprop.1`, `foo.part.0`): carried as a new
// function, never replacing the running kernel's copy in place; its callers are patched instead.
struct CloneChange {
  std::string name;                  // the clone's name in ORIG (and the output object's)
  std::string patched_name;          // its name in PATCHED
  std::vector<std::string> callers;  // ORIG names of the functions patched to call the new clone
};

struct DiffStats {
  size_t orig_functions = 0, patched_functions = 0;
  size_t orig_objects = 0, patched_objects = 0;
  size_t kept_special_entries = 0;
  std::map<std::string, double> timings_ms;  // per pass
};

struct DiffResult {
  std::vector<FunctionChange> functions;  // changed and new, in PATCHED order
  std::vector<std::string> changed;       // names (ORIG names)
  std::vector<std::string> added;         // names of new functions ("new" in JSON)
  std::vector<std::string> new_data;      // new variables the patch carries
  std::vector<std::string> changed_rodata;  // local read-only data copied with its users
  std::vector<std::string> removed;       // functions ORIG has and PATCHED has not
  std::vector<CloneChange> clones;        // changed clones, redirected through their callers
  std::vector<std::string> ignored;       // the author's ignore markers honoured: "function f", "section s", "static v"
  std::vector<Refusal> refused;
  std::vector<Reference> references;
  elf::Object output;                     // valid when has_output
  bool has_output = false;
  DiffStats stats;

  bool no_change() const { return changed.empty() && added.empty() && refused.empty(); }
};

struct DiffOptions {
  std::string orig_name = "ORIG";        // for messages
  std::string patched_name = "PATCHED";
  bool build_output = true;
};

// Errors (Result's error) are for unusable input (malformed objects, inconsistent tables);
// unsupported changes are not errors but Refusals in the result.
Result<DiffResult> diff_objects(const elf::Object& orig, const elf::Object& patched,
                                const DiffOptions& options = {});

}  // namespace noreboot::diff
