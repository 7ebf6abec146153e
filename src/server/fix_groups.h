// One classification of the fleet per fix, shared by every view that counts exposure.
//
// Problem: two API views answer "who is exposed": GET /v1/fixes[/{id}] (per fix id) and the
// `exposed` entries of GET /v1/fleet (per kernel). Computed separately they drift apart (one
// counted "behind the newest bundle", the other "without a bundle carrying the fix"), and an
// operator who sees 3 exposed hosts on one page and 5 on the other trusts neither.
// Approach: Api::Impl::fix_groups (api_fixes.cc) reads the fleet once, grouped by (kernel,
// applied bundle), and puts each of those host groups in exactly one FixGroup per fix, in the
// order docs/api.md gives (patched, exposed, already_fixed, not_built, not_covered). The fix
// view sums the host groups per FixGroup; the fleet view sums the `exposed` ones per kernel. Both
// read the same vectors, so their numbers cannot disagree.
// Trade-off: indexes into the shared vectors rather than copies, so the result is only valid
// as a whole (it is a value: move it, do not keep parts of it).
#pragma once

#include <cstddef>
#include <vector>

#include "server/store.h"

namespace noreboot::server {

enum class FixGroup { patched, exposed, already_fixed, not_built, not_covered };
inline constexpr FixGroup kFixGroups[] = {FixGroup::patched, FixGroup::exposed, FixGroup::already_fixed,
                                          FixGroup::not_built, FixGroup::not_covered};
const char* fix_group_name(FixGroup g);

inline constexpr std::size_t kNoRow = static_cast<std::size_t>(-1);

struct FixClassification {
  FixRow fix;
  std::vector<std::size_t> rows;   // this fix's kernel rows: indexes into FleetFixGroups::rows
  std::vector<FixGroup> group;     // one per FleetFixGroups::hosts entry
  std::vector<std::size_t> row;    // one per hosts entry: the kernel row it matched, or kNoRow
};

struct FleetFixGroups {
  std::vector<HostKernelCount> hosts;  // hosts grouped by (kernel, applied bundle)
  std::vector<FixKernelRow> rows;      // the kernel rows of the fixes classified
  std::vector<FixClassification> fixes;
};

}  // namespace noreboot::server
