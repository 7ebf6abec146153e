// The state of one diff run, passed explicitly from pass to pass (no globals).
#pragma once

#include <cstdlib>
#include <vector>

#include "diff/correlate.h"
#include "diff/differ.h"
#include "diff/fingerprint.h"
#include "diff/object_index.h"

namespace noreboot::diff {

struct KeptEntries {
  uint32_t section = 0;           // a special section of PATCHED
  std::vector<uint64_t> entries;  // indices of kept entries
};

struct DiffContext {
  const ObjectIndex& orig;
  const ObjectIndex& patched;
  Correlation corr;
  std::vector<std::string> orig_ids;     // identity of each ORIG unit: its name
  std::vector<std::string> patched_ids;  // of each PATCHED unit: its twin's name, or "+name"
  Fingerprinter fp_orig;
  Fingerprinter fp_patched;
  std::vector<bool> included;  // per PATCHED unit: the output object defines it
  std::vector<bool> ignored;   // per PATCHED unit: the author marked it unchanged (ignore_markers.h)
  std::vector<KeptEntries> kept;
  DiffResult& result;
  bool debug = std::getenv("NOREBOOT_DIFF_DEBUG") != nullptr;

  DiffContext(const ObjectIndex& o, const ObjectIndex& p, DiffResult& r)
      : orig(o), patched(p), corr(correlate(o, p)), orig_ids(identities(o, nullptr, nullptr)),
        patched_ids(identities(p, &o, &corr)), fp_orig(o, orig_ids), fp_patched(p, patched_ids),
        included(p.units().size(), false), ignored(p.units().size(), false), result(r) {}

  static std::vector<std::string> identities(const ObjectIndex& ix, const ObjectIndex* orig, const Correlation* c) {
    std::vector<std::string> ids(ix.units().size());
    for (uint32_t u = 0; u < ids.size(); ++u) {
      uint32_t twin = c ? c->twin_of_patched[u] : kNone;
      ids[u] = !c ? ix.unit(u).name : twin != kNone ? orig->unit(twin).name : "+" + ix.unit(u).name;
    }
    return ids;
  }

  // The name the running kernel knows a PATCHED unit by: its ORIG twin's name if it has one.
  const std::string& kernel_name(uint32_t p) const {
    uint32_t o = corr.twin_of_patched[p];
    return o == kNone ? patched.unit(p).name : orig.unit(o).name;
  }
  void refuse(std::string symbol, std::string reason, std::string hint) {
    for (const Refusal& r : result.refused)
      if (r.symbol == symbol && r.reason == reason) return;
    result.refused.push_back({std::move(symbol), std::move(reason), std::move(hint)});
  }
};

// differ.cc: `call __fentry__` at the function's entry (ftrace, and so livepatch, can redirect it).
bool has_fentry(const ObjectIndex& ix, uint32_t unit);

// clones.cc: a changed compiler clone is carried as a new function and its callers are patched
// to call it (the clone's calling convention is GCC's private choice and may have changed).
void redirect_changed_clones(DiffContext& ctx);

// output.cc: builds result.output from the included units and kept special entries.
Status emit_output(DiffContext& ctx);

}  // namespace noreboot::diff
