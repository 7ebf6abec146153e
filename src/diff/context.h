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
  Fingerprinter fp_orig;
  Fingerprinter fp_patched;
  std::vector<bool> included;  // per PATCHED unit: the output object defines it
  std::vector<KeptEntries> kept;
  DiffResult& result;
  bool debug = std::getenv("NOREBOOT_DIFF_DEBUG") != nullptr;

  DiffContext(const ObjectIndex& o, const ObjectIndex& p, DiffResult& r)
      : orig(o), patched(p), corr(correlate(o, p)), fp_orig(o), fp_patched(p),
        included(p.units().size(), false), result(r) {}

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

// output.cc: builds result.output from the included units and kept special entries.
Status emit_output(DiffContext& ctx);

}  // namespace noreboot::diff
