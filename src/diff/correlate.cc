#include "diff/correlate.h"

#include <algorithm>
#include <optional>

namespace noreboot::diff {

std::vector<std::vector<std::string>> referrers(const ObjectIndex& ix) {
  std::vector<std::vector<std::string>> out(ix.units().size());
  for (uint32_t f = 0; f < ix.units().size(); ++f) {
    const Unit& u = ix.unit(f);
    if (u.kind != UnitKind::function) continue;
    const Unit& owner = u.parent != kNone ? ix.unit(u.parent) : u;
    std::string name = normalize_name(owner.name);
    const auto& rel = ix.relocs(u.section);
    for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) {
      Target t = ix.resolve(rel[k]);
      if (t.kind == Target::Kind::unit && t.unit != f) out[t.unit].push_back(name);
    }
  }
  for (auto& v : out) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  return out;
}

Correlation correlate(const ObjectIndex& orig, const ObjectIndex& patched) {
  Correlation c;
  c.twin_of_patched.assign(patched.units().size(), kNone);
  c.twin_of_orig.assign(orig.units().size(), kNone);
  c.ambiguous.assign(patched.units().size(), false);
  auto pair = [&](uint32_t p, uint32_t o) {
    c.twin_of_patched[p] = o;
    c.twin_of_orig[o] = p;
  };
  auto eligible = [](const Unit& u) { return u.fresh == FreshKind::none && u.parent == kNone; };

  std::optional<std::vector<std::vector<std::string>>> orig_refs, patched_refs;
  for (uint32_t p0 = 0; p0 < patched.units().size(); ++p0) {
    const Unit& first = patched.unit(p0);
    if (!eligible(first)) continue;
    const auto& pk = patched.with_key(first.key);
    if (pk.empty() || pk[0] != p0) continue;  // handle each key once, at its first unit
    std::vector<uint32_t> P, O;
    for (uint32_t p : pk)
      if (eligible(patched.unit(p))) P.push_back(p);
    for (uint32_t o : orig.with_key(first.key))
      if (eligible(orig.unit(o))) O.push_back(o);
    if (O.empty()) continue;
    // Level 1: one each.
    if (P.size() == 1 && O.size() == 1) {
      pair(P[0], O[0]);
      continue;
    }
    auto match = [&](auto same) {
      std::vector<uint32_t> restP, restO = O;
      for (uint32_t p : P) {
        int hits = 0;
        uint32_t hit = kNone;
        for (uint32_t o : restO)
          if (same(p, o)) { ++hits; hit = o; }
        int back = 0;
        for (uint32_t q : P)
          if (hit != kNone && same(q, hit)) ++back;
        if (hits == 1 && back == 1) {
          pair(p, hit);
          std::erase(restO, hit);
        } else {
          restP.push_back(p);
        }
      }
      P = std::move(restP);
      O = std::move(restO);
    };
    // Level 2: the same referring functions (survives renumbering).
    if (!orig_refs) orig_refs = referrers(orig);
    if (!patched_refs) patched_refs = referrers(patched);
    match([&](uint32_t p, uint32_t o) {
      return !(*patched_refs)[p].empty() && (*patched_refs)[p] == (*orig_refs)[o];
    });
    // Level 3: exact names.
    if (!P.empty() && !O.empty())
      match([&](uint32_t p, uint32_t o) { return patched.unit(p).name == orig.unit(o).name; });
    // Level 4: one left on each side.
    if (P.size() == 1 && O.size() == 1) {
      pair(P[0], O[0]);
      P.clear();
    }
    for (uint32_t p : P)
      if (!O.empty()) c.ambiguous[p] = true;
  }
  // Cold parts follow their function.
  for (uint32_t p = 0; p < patched.units().size(); ++p) {
    const Unit& u = patched.unit(p);
    uint32_t o = c.twin_of_patched[p];
    if (u.kind != UnitKind::function || o == kNone) continue;
    for (uint32_t pc : u.children)
      for (uint32_t oc : orig.unit(o).children)
        if (normalize_name(patched.unit(pc).name) == normalize_name(orig.unit(oc).name) &&
            c.twin_of_orig[oc] == kNone) {
          pair(pc, oc);
          break;
        }
  }
  return c;
}

}  // namespace noreboot::diff
