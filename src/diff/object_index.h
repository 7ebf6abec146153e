// One object, indexed for diffing: its functions and data objects as "units".
//
// Problem: the differ compares functions and data objects, but ELF stores sections, symbols
// and relocations. With -ffunction-sections/-fdata-sections most sections hold one symbol, but
// not all: `__sched` functions share `.sched.text`, per-CPU variables share `.data..percpu`,
// string literals sit in mergeable `.rodata.<fn>.str1.1` sections without symbols, and the
// assembler rewrites references to local symbols as "section symbol + offset":
//
//   000000000051  R_X86_64_PC32  .bss.counter - 5       (a `cmpb $0, counter(%rip)`)
//   000000000022  R_X86_64_PC32  .text.unlikely.foo_get - 4   (a jump to foo_get.cold)
//
// Approach: a unit is a FUNC/OBJECT symbol's byte range in its section (symbols with the
// same range are aliases of one unit), or a whole section without such symbols ("anonymous":
// strings, alternative replacements, switch tables). Every relocation is resolved to the unit
// it points into plus an offset inside it, so "which object does this code use" never depends
// on section offsets that merely moved. A section symbol + addend that lands between units
// (PC-relative addends carry -4 or -5 for the instruction's tail) is resolved by trying the
// usual instruction tails; since S+A stays the same address whichever unit of that section is
// named, a wrong pick cannot make the output object point elsewhere, only a message less exact.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "diff/names.h"
#include "elf/object.h"

namespace noreboot::diff {

inline constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

enum class SectionRole {
  ignored,   // not part of the running code: debug info, .discard.*, __ksymtab*, .modinfo, ...
  code,      // executable
  data,      // allocated, not executable, not mergeable strings
  strings,   // SHF_MERGE|SHF_STRINGS literals: compared by content, never by offset
  special,   // a kernel special section split per function (arch_x86_64.h)
  paired,    // a special section parallel to another by index (.orc_unwind)
};

enum class UnitKind { function, object, anonymous };

struct Unit {
  UnitKind kind = UnitKind::anonymous;
  uint32_t sym = kNone;            // the FUNC/OBJECT symbol (kNone for anonymous units)
  std::vector<uint32_t> aliases;   // further symbols with the same range
  uint32_t section = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string name;                // symbol name, or the section's name for anonymous units
  std::string key;                 // correlation key: kind + normalised name
  uint32_t parent = kNone;         // for a `.cold` part: its function
  std::vector<uint32_t> children;  // a function's `.cold` parts
  FreshKind fresh = FreshKind::none;
  size_t reloc_begin = 0, reloc_end = 0;  // range in ObjectIndex::relocs[section]
};

// A relocation's target, resolved.
struct Target {
  enum class Kind {
    undefined,   // SHN_UNDEF: an extern
    absolute,    // SHN_ABS / SHN_COMMON
    unit,        // code or data the differ diffs
    symbol,      // a named symbol in a section the differ does not diff: referenced by name
    unresolved,  // a section symbol into such a section: cannot be named
  };
  Kind kind = Kind::unresolved;
  uint32_t unit = kNone;
  int64_t offset_in_unit = 0;  // S + A - unit start: what the reference adds to the unit's start
  std::string_view string;     // for a unit in a strings section: the literal referenced
  bool is_string = false;
  uint32_t sym = 0;            // the relocation's own symbol
};

class ObjectIndex {
 public:
  static Result<ObjectIndex> build(const elf::Object& obj, std::string what);

  const elf::Object& obj() const { return *obj_; }
  const std::string& what() const { return what_; }
  const std::vector<Unit>& units() const { return units_; }
  const Unit& unit(uint32_t u) const { return units_[u]; }
  SectionRole role(uint32_t section) const { return roles_[section]; }
  // Relocations of `section`, sorted by offset.
  const std::vector<elf::Relocation>& relocs(uint32_t section) const { return relocs_[section]; }
  const std::vector<uint32_t>& units_in(uint32_t section) const { return units_in_[section]; }
  const std::vector<uint32_t>& with_key(const std::string& key) const;
  uint32_t unit_of_symbol(uint32_t sym) const { return unit_of_sym_[sym]; }
  Target resolve(const elf::Relocation& r) const;

  const elf::Section& section_of(const Unit& u) const { return obj_->sections[u.section]; }
  bool is_writable(const Unit& u) const;
  bool is_local(const Unit& u) const;
  uint8_t bind(const Unit& u) const;
  uint8_t type(const Unit& u) const;
  // True when the object was assembled from a .S file (no compiler .comment, or an STT_FILE
  // ending in .S): its functions have no ftrace entry and no C semantics.
  bool assembly() const { return assembly_; }
  const std::string& source_file() const { return source_file_; }

 private:
  const elf::Object* obj_ = nullptr;
  std::string what_;
  std::vector<SectionRole> roles_;
  std::vector<std::vector<elf::Relocation>> relocs_;
  std::vector<std::vector<uint32_t>> units_in_;
  std::vector<uint32_t> unit_of_sym_;
  std::vector<Unit> units_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_key_;
  std::vector<uint32_t> empty_;
  bool assembly_ = false;
  std::string source_file_;
};

SectionRole classify_section(const elf::Section& s);

}  // namespace noreboot::diff
