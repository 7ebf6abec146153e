// Pass 3c: changed compiler clones are redirected through their callers, never replaced in place.
//
// The problem. GCC copies a static function when it can do better than the source's calling
// convention: `foo.isra.0` (IPA-SRA: a pointer parameter replaced by the fields it reads,
// unused parameters dropped), `foo.constprop.0` (constant arguments folded in and dropped),
// `foo.part.0` (a split-off tail with the live values as arguments). The convention of such a
// copy is GCC's private choice for this one file, and a fix can change it without any
// declaration changing: a fix that reads `r->flags` as well as `r->len` turns
// `check_len.isra.0(int len)` into `check_len.isra.0(int len, int flags)` under the same name
// (scenario `clone-abi-changed`). Livepatch replaces a function in place: every call to the
// old address is diverted to the new code. A running caller that still sets up the old
// arguments would then call the new code with the wrong registers: a crash of the host.
//
// Why not detect the change and replace in place when it did not change. The convention is not
// written anywhere a tool can read soundly. DWARF describes the source's parameters: for an
// IPA-SRA clone the formal parameters name what was replaced, not the registers that carry the
// replacement (one pointer replaced by one of its fields keeps one parameter and one DIE, with
// another meaning), and Debian's objects compiled for a patch need not carry DWARF at all.
// Reading how every call site loads its argument registers needs an x86 decoder and a data-flow
// analysis, and is still a guess where a value is already in the right register. What is sure
// is the other direction: a clone is local to its file (GCC clones only functions whose every
// caller it sees), so its callers are exactly the functions of ORIG that call it.
//
// So the rule, whatever happened to the convention:
//   - the changed clone is carried as a NEW function of the patch (listed in "new", never a
//     klp_func), so the running kernel's copy stays intact for the code that still calls it;
//   - every function of ORIG that calls the clone and still exists in PATCHED is patched
//     (included as changed even when its own bytes are equal), and its patched copy calls the
//     new clone, since the output object defines it (emit turns the call into a call inside the
//     module).
// Livepatch's consistency model switches all of a patch's functions per task at once, so a task
// runs either the old callers with the old clone or the new callers with the new clone; the
// arguments always match. A caller that ORIG has and PATCHED does not (inlined or removed by the
// fix) keeps calling the old clone, which is still there and still takes the old arguments.
// The cost is a bigger patch when the convention did not change (the callers travel too), never
// a wrong one.
//
// Refused, with the clone, the caller and what to do: a caller livepatch cannot replace (an
// `__init`/`__exit` function, one without `call __fentry__`, assembly), because it would keep
// running the old clone and miss the fix; a clone whose address ORIG stores in data (a table
// would keep pointing at the old copy); a changed clone that no function calls.
#include <algorithm>
#include <set>
#include <string_view>

#include "diff/context.h"
#include "diff/refusals.h"

namespace noreboot::diff {

namespace {

uint32_t top_of(const ObjectIndex& ix, uint32_t u) {
  while (u != kNone && ix.unit(u).parent != kNone) u = ix.unit(u).parent;
  return u;
}

// Who in ORIG refers to the clone `o`: functions (by their top-level unit) and, separately,
// any data that holds its address. Special sections (the clone's own ORC, mcount, bug entries)
// describe the clone itself and are not callers.
struct Referrers {
  std::set<uint32_t> functions;
  std::set<std::string> data;
};

Referrers referrers_of(const ObjectIndex& O, uint32_t clone) {
  Referrers out;
  for (uint32_t u = 0; u < O.units().size(); ++u) {
    const Unit& unit = O.unit(u);
    if (unit.kind == UnitKind::anonymous) continue;
    SectionRole role = O.role(unit.section);
    if (role != SectionRole::code && role != SectionRole::data) continue;
    const auto& rel = O.relocs(unit.section);
    for (size_t k = unit.reloc_begin; k < unit.reloc_end; ++k) {
      Target t = O.resolve(rel[k]);
      if (t.kind != Target::Kind::unit || top_of(O, t.unit) != clone) continue;
      uint32_t from = top_of(O, u);
      if (from == clone) continue;  // recursion, or its own .cold part
      if (unit.kind == UnitKind::function)
        out.functions.insert(from);
      else
        out.data.insert(unit.name);
    }
  }
  return out;
}

// Why livepatch cannot replace ORIG's function `o`, or empty when it can.
std::string unpatchable_because(const DiffContext& ctx, uint32_t o) {
  const std::string& sec = ctx.orig.section_of(ctx.orig.unit(o)).name;
  if (sec.starts_with(".init.text")) return "it is an __init function";
  if (sec.starts_with(".exit.text")) return "it is an __exit function";
  if (ctx.orig.assembly()) return "it is assembly";
  if (!has_fentry(ctx.orig, o)) return "it has no 'call __fentry__' (notrace or noinstr)";
  return {};
}

}  // namespace

void redirect_changed_clones(DiffContext& ctx) {
  const ObjectIndex& O = ctx.orig;
  const ObjectIndex& P = ctx.patched;
  DiffResult& result = ctx.result;
  // The changed clones, as classify_functions found them (callers added below are not clones
  // that changed: their bytes are equal, so is their convention).
  std::vector<size_t> clones;
  for (size_t i = 0; i < result.functions.size(); ++i)
    if (result.functions[i].kind == ChangeKind::changed && is_compiler_clone(result.functions[i].name))
      clones.push_back(i);
  if (clones.empty()) return;

  std::vector<CloneChange> records;
  for (size_t i : clones) {
    // Copies: result.functions grows below.
    const std::string name = result.functions[i].name, patched_name = result.functions[i].patched_name;
    uint32_t p = kNone;
    for (uint32_t u = 0; u < P.units().size() && p == kNone; ++u)
      if (P.unit(u).kind == UnitKind::function && P.unit(u).parent == kNone && P.unit(u).name == patched_name)
        p = u;
    uint32_t o = p == kNone ? kNone : ctx.corr.twin_of_patched[p];
    if (o == kNone) continue;  // cannot happen for a changed function; nothing to redirect

    CloneChange record{name, patched_name, {}};
    Referrers refs = referrers_of(O, o);
    for (const std::string& d : refs.data)
      ctx.refuse(name, std::string(refusal::kCloneAddressTaken) + " (" + d + ")",
                 std::string(refusal::kCloneAddressTakenHint));
    for (uint32_t caller : refs.functions) {
      uint32_t twin = ctx.corr.twin_of_orig[caller];
      if (twin == kNone) continue;  // gone in PATCHED: it keeps calling the old clone, which stays
      const std::string& caller_name = O.unit(caller).name;
      if (std::string why = unpatchable_because(ctx, caller); !why.empty()) {
        ctx.refuse(name,
                   std::string(refusal::kCloneCallerUnpatchable) + ": " + caller_name + " (" + why + ")",
                   std::string(refusal::kCloneCallerUnpatchableHint));
        continue;
      }
      record.callers.push_back(caller_name);
      if (ctx.included[twin]) continue;  // changed by itself already
      const Unit& tu = P.unit(twin);
      FunctionChange forced;
      forced.name = caller_name;
      forced.patched_name = tu.name;
      forced.kind = ChangeKind::changed;
      forced.bind = O.bind(O.unit(caller));
      forced.section = P.section_of(tu).name;
      result.functions.push_back(forced);
      result.changed.push_back(caller_name);
      ctx.included[twin] = true;
    }
    if (record.callers.empty() && refs.data.empty())
      ctx.refuse(name, std::string(refusal::kCloneNoCaller), std::string(refusal::kCloneNoCallerHint));
    std::sort(record.callers.begin(), record.callers.end());
    records.push_back(std::move(record));
  }
  // The clones themselves: carried as new functions, not replaced in place.
  for (size_t i : clones) {
    FunctionChange& fc = result.functions[i];
    fc.kind = ChangeKind::added;
    std::erase(result.changed, fc.name);
    result.added.push_back(fc.name);
  }
  for (auto& r : records) result.clones.push_back(std::move(r));
}

}  // namespace noreboot::diff
