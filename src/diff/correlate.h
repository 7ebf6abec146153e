// Correlation: which unit of ORIG is each unit of PATCHED?
//
// A funnel of ever tighter filters (klp-diff's design), the widest level that gives a
// one-to-one match wins:
//   1. the normalised name with its kind (function / object / anonymous): `foo.isra.0` in ORIG
//      is `foo.isra.1` in PATCHED once GCC renumbered its clones;
//   2. who uses it: two functions each with a `static int count` give `count.0` and
//      `count.1`, and a fix elsewhere in the file can renumber them; the set of functions
//      referring to each (this `count` belongs to foo, that one to bar) survives renumbering;
//   3. the exact name, among same-normalised candidates (when the users changed too);
//   4. a single leftover on each side.
// What is still ambiguous is reported, and the differ refuses to guess for state a patch
// would share with the running kernel. Per-site state (__already_done, __key, ...) is never
// correlated: the patch uses fresh copies. `.cold` parts follow their function.
#pragma once

#include <vector>

#include "diff/object_index.h"

namespace noreboot::diff {

struct Correlation {
  std::vector<uint32_t> twin_of_patched;  // patched unit -> orig unit (kNone: no twin)
  std::vector<uint32_t> twin_of_orig;     // orig unit -> patched unit
  std::vector<bool> ambiguous;            // patched unit had candidates but no unique twin
};

Correlation correlate(const ObjectIndex& orig, const ObjectIndex& patched);

// Normalised names of the functions that refer to each unit (sorted, unique).
std::vector<std::vector<std::string>> referrers(const ObjectIndex& ix);

}  // namespace noreboot::diff
