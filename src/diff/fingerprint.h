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
// What is NOT in a function's fingerprint: its special-section entries. `__bug_table` holds the
// __LINE__ of each WARN/BUG, so a fix that only shifts lines changes bug entries but no code;
// on this kernel (x86-64, 6.1, no CONFIG_DEBUG_ATOMIC_SLEEP) WARN_ON's text is `ud2` and the
// line lives only in the table (and in the dynamic-debug descriptor's lineno, see above).
#pragma once

#include <string>
#include <vector>

#include "diff/object_index.h"

namespace noreboot::diff {

class Fingerprinter {
 public:
  // identity[u]: what references to unit u are called (see above).
  Fingerprinter(const ObjectIndex& ix, const std::vector<std::string>& identity);
  const std::string& of(uint32_t unit);
  // The identity of a relocation target as it appears in fingerprints.
  std::string target_key(const elf::Relocation& r);
  // True when a reference to this unit folds in its content (it travels with its user).
  bool folds_content(const Unit& u) const;

 private:
  std::string compute(uint32_t unit);
  const ObjectIndex& ix_;
  const std::vector<std::string>& identity_;
  std::vector<std::string> memo_;
  std::vector<uint8_t> state_;  // 0 = not computed, 1 = in progress, 2 = done
};

}  // namespace noreboot::diff
