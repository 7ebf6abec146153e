// What a function or data object *is*, independent of where things landed in the file.
//
// Problem: a fix that adds one line to one function moves every later string literal, renumbers
// static locals (`count.0` -> `count.1`) and shifts section offsets, so the raw bytes and
// relocation addends of untouched functions differ between the two objects. Comparing those
// would mark half the file changed (a bigger, riskier patch); ignoring relocations would miss a
// call that now goes elsewhere (a silent hole).
//
// Approach (the idea of klp-diff's checksums, done as exact canonical strings): a unit's
// fingerprint is its bytes with every relocated field zeroed, followed by one record per
// relocation: offset in the unit, type, and the target *by identity*:
//   - an undefined symbol by name; a named function/variable by its identity (its name in ORIG:
//     a PATCHED unit is known by its correlated twin's name, so `count.1` that correlation
//     paired with `count.0` is the same target, and an uncorrelated one never equals anything
//     in ORIG) + offset inside it;
//   - a string literal by its content (never its offset in .rodata.str);
//   - things that belong to the function and are copied with it (its `.cold` part, local
//     read-only data, anonymous tables, `__func__`, `CSWTCH`, dynamic-debug descriptors) by
//     their own fingerprint, recursively, so a changed table or literal changes its users;
//   - per-site state (`__already_done`, `__key`) by name only.
// Two units are the same iff their fingerprints are equal. Exact strings instead of hashes:
// no collision can hide a change, and kernel functions are small enough that it costs little.
//
// A function's special-section entries ARE part of its fingerprint (an exception-table
// handler or an alternative's replacement can change while the code bytes stay the same),
// with one field masked: `struct bug_entry.line`. A fix that only shifts lines changes the
// `line` of WARN/BUG entries and nothing else; on this kernel (x86-64, 6.1, no
// CONFIG_DEBUG_ATOMIC_SLEEP) WARN_ON's code is `ud2` and the line lives only in the table (and
// in the dynamic-debug descriptor's lineno, which is compared by references only).
//
// Code without symbols that several functions share (`.altinstr_aux` holds the slow paths of
// every static_cpu_has() in the file, `.altinstr_replacement` every alternative) is folded in
// by the chunk a reference enters: from that entry point to the next one anyone refers to.
// Folding the whole section would make every user changed when one of them changes.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "diff/object_index.h"
#include "elf/arch_x86_64.h"

namespace noreboot::diff {

class Fingerprinter {
 public:
  // identity[u]: what references to unit u are called (see above).
  Fingerprinter(const ObjectIndex& ix, const std::vector<std::string>& identity);
  const std::string& of(uint32_t unit);
  // The identity of a relocation target as it appears in fingerprints. `from_code`: the
  // relocation sits in an instruction (a PC-relative field is followed by the instruction's end).
  std::string target_key(const elf::Relocation& r, bool from_code);
  // True when a reference to this unit folds in its content (it travels with its user).
  bool folds_content(const Unit& u) const;

 private:
  std::string compute(uint32_t unit);
  // Bytes [begin, end) of a section with relocated fields zeroed, then the relocation records.
  void append_range(std::string& out, uint32_t section, uint64_t begin, uint64_t end, uint64_t origin,
                    const elf::Relocation* skip, bool from_code, const elf::Relocation* skip2 = nullptr);
  std::string chunk(uint32_t unit, int64_t entry);
  int64_t entry_point(const Target& t, const elf::Relocation& r, bool from_code) const;

  struct EntryRef {
    uint32_t section;
    uint64_t begin;
    uint32_t anchor_index;  // index of the anchor relocation in ix_.relocs(section)
    const elf::x86_64::SpecialSection* spec;
  };
  std::vector<std::vector<EntryRef>> special_of_;   // per function unit: its special entries
  std::vector<std::vector<int64_t>> entries_;       // per anonymous code unit: entry points
  std::unordered_map<uint64_t, std::string> chunk_memo_;
  const ObjectIndex& ix_;
  const std::vector<std::string>& identity_;
  std::vector<std::string> memo_;
  std::vector<uint8_t> state_;  // 0 = not computed, 1 = in progress, 2 = done
};

}  // namespace noreboot::diff
