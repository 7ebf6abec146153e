// The differ's passes. See differ.h for the overview; each pass below says why it exists.
#include "diff/differ.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "diff/context.h"
#include "diff/ignore_markers.h"
#include "diff/refusals.h"
#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

namespace {

class ScopedTimer {
 public:
  ScopedTimer(DiffStats& stats, std::string name)
      : stats_(stats), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    auto d = std::chrono::steady_clock::now() - start_;
    stats_.timings_ms[name_] += std::chrono::duration<double, std::milli>(d).count();
  }

 private:
  DiffStats& stats_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};


}  // namespace

// `call __fentry__` at the entry (after endbr64 when IBT is on): ftrace, and so livepatch, can
// redirect the function. The relocation is at offset 1, the rel32 of the e8 call:
//   0: e8 00 00 00 00    call   5 <f+0x5>   1: R_X86_64_PLT32 __fentry__-0x4
bool has_fentry(const ObjectIndex& ix, uint32_t unit) {
  const Unit& u = ix.unit(unit);
  const Section& s = ix.section_of(u);
  uint64_t at = u.offset + x86_64::kFentryRelocOffset;
  static constexpr uint8_t kEndbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
  if (s.data.size() >= u.offset + 4 && std::memcmp(s.data.data() + u.offset, kEndbr64, 4) == 0)
    at = u.offset + x86_64::kFentryRelocOffsetAfterEndbr;
  const auto& rel = ix.relocs(u.section);
  for (size_t k = u.reloc_begin; k < u.reloc_end; ++k)
    if (rel[k].r_offset == at && ix.obj().symbols[rel[k].r_sym].name == "__fentry__") return true;
  return false;
}

namespace {

// With NOREBOOT_DIFF_DEBUG set: where two fingerprints first differ, on stderr.
void debug_difference(const std::string& name, const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  auto show = [&](const std::string& s) {
    std::string out;
    for (size_t k = i < 40 ? 0 : i - 40; k < std::min(s.size(), i + 80); ++k)
      out += (s[k] >= 32 && s[k] < 127) ? s[k] : '.';
    return out;
  };
  std::fprintf(stderr, "diff-debug: %s differs at byte %zu\n  orig:    %s\n  patched: %s\n", name.c_str(), i,
               show(a).c_str(), show(b).c_str());
}

// Pass 2b: the author's ignore markers (KPATCH_IGNORE_FUNCTION / _SECTION / _STATIC): the
// units they name are treated as unchanged by the passes below.
void apply_ignore_markers(DiffContext& ctx) {
  IgnoreMarkers m = read_ignore_markers(ctx.patched);
  ctx.ignored = std::move(m.ignored);
  for (auto& r : m.refused) ctx.refuse(std::move(r.symbol), std::move(r.reason), std::move(r.hint));
  auto& out = ctx.result.ignored;
  for (const auto& f : m.functions) out.push_back("function " + f);
  for (const auto& s : m.sections) out.push_back("section " + s);
  for (const auto& s : m.statics) out.push_back("static " + s);
}

// Pass 3a: functions. A function is changed when its fingerprint differs from its twin's (a
// changed inline helper changes every caller's bytes, so callers show up here by themselves),
// new when it has no twin. Changes livepatch cannot carry are refused, not dropped.
void classify_functions(DiffContext& ctx) {
  const ObjectIndex& P = ctx.patched;
  const ObjectIndex& O = ctx.orig;
  for (uint32_t p = 0; p < P.units().size(); ++p) {
    const Unit& u = P.unit(p);
    if (u.kind != UnitKind::function || u.parent != kNone) continue;
    ++ctx.result.stats.patched_functions;
    if (ctx.ignored[p]) continue;  // KPATCH_IGNORE_FUNCTION / _SECTION: the author says unchanged
    uint32_t o = ctx.corr.twin_of_patched[p];
    ChangeKind kind;
    if (o == kNone) {
      kind = ChangeKind::added;
    } else if (ctx.fp_patched.of(p) != ctx.fp_orig.of(o)) {
      kind = ChangeKind::changed;
      if (ctx.debug) debug_difference(u.name, ctx.fp_orig.of(o), ctx.fp_patched.of(p));
    } else {
      continue;
    }
    const std::string& name = ctx.kernel_name(p);
    const std::string& sec = P.section_of(u).name;
    if (sec.starts_with(".init.text")) {
      ctx.refuse(name, std::string(refusal::kInit), std::string(refusal::kInitHint));
    } else if (sec.starts_with(".exit.text")) {
      ctx.refuse(name, std::string(refusal::kExit), std::string(refusal::kExitHint));
    } else if (kind == ChangeKind::changed && (O.assembly() || P.assembly())) {
      ctx.refuse(name, std::string(refusal::kAssembly), std::string(refusal::kAssemblyHint));
    } else if (kind == ChangeKind::changed && !has_fentry(O, o)) {
      ctx.refuse(name, std::string(refusal::kNoFentry), std::string(refusal::kNoFentryHint));
    }
    FunctionChange fc;
    fc.name = name;
    fc.patched_name = u.name;
    fc.kind = kind;
    fc.bind = o == kNone ? P.bind(u) : O.bind(O.unit(o));
    fc.section = sec;
    ctx.result.functions.push_back(fc);
    (kind == ChangeKind::changed ? ctx.result.changed : ctx.result.added).push_back(name);
    ctx.included[p] = true;
  }
  for (uint32_t o = 0; o < O.units().size(); ++o) {
    const Unit& u = O.unit(o);
    if (u.kind != UnitKind::function || u.parent != kNone) continue;
    ++ctx.result.stats.orig_functions;
    if (ctx.corr.twin_of_orig[o] == kNone) ctx.result.removed.push_back(u.name);
  }
}

// Pass 3b: data. Existing data a fix changes cannot be changed in the running kernel, so a
// changed initializer or size is refused; local read-only data (tables, literals) is copied
// with the functions that use it instead, and their fingerprints already changed with it.
void classify_data(DiffContext& ctx) {
  const ObjectIndex& P = ctx.patched;
  const ObjectIndex& O = ctx.orig;
  for (uint32_t o = 0; o < O.units().size(); ++o)
    if (O.unit(o).kind == UnitKind::object) ++ctx.result.stats.orig_objects;
  for (uint32_t p = 0; p < P.units().size(); ++p) {
    const Unit& u = P.unit(p);
    if (u.kind == UnitKind::function || P.role(u.section) != SectionRole::data) continue;
    if (u.kind == UnitKind::object) ++ctx.result.stats.patched_objects;
    if (u.fresh != FreshKind::none || ctx.ignored[p]) continue;
    const std::string& sec = P.section_of(u).name;
    if (sec.starts_with(".init.") || sec.starts_with(".exit.")) continue;
    uint32_t o = ctx.corr.twin_of_patched[p];
    if (o == kNone) {
      if (u.kind == UnitKind::object && !ctx.corr.ambiguous[p]) ctx.result.new_data.push_back(u.name);
      continue;
    }
    if (ctx.fp_patched.of(p) == ctx.fp_orig.of(o)) continue;
    const Unit& ou = O.unit(o);
    if (!P.is_writable(u) && P.is_local(u) && O.is_local(ou)) {
      ctx.result.changed_rodata.push_back(u.name);
      continue;
    }
    if (ou.size != u.size) {
      ctx.refuse(ou.name,
                 std::string(refusal::kLayout) + " (" + std::to_string(ou.size) + " -> " + std::to_string(u.size) +
                     " bytes)",
                 std::string(refusal::kLayoutHint));
    } else {
      ctx.refuse(ou.name, std::string(refusal::kData), std::string(refusal::kDataHint));
    }
  }
}

// Pass 4: what travels with the included functions. References to unchanged functions and to
// existing variables stay references (the running kernel's copies, named as ORIG names them);
// what belongs to the functions is copied: string literals, local read-only data, per-site
// state used fresh, new variables, `.cold` parts, alternative replacement code.
class Includer {
 public:
  explicit Includer(DiffContext& ctx) : ctx_(ctx), P_(ctx.patched) {}

  void run() {
    for (uint32_t p = 0; p < P_.units().size(); ++p)
      if (ctx_.included[p]) push(p);
    drain();
    // Special sections: keep the entries of included code; their relocations can pull in more
    // (string literals of __bug_table, .altinstr_replacement code).
    for (uint32_t s = 1; s < P_.obj().sections.size(); ++s) {
      if (P_.role(s) != SectionRole::special) continue;
      split_special(s);
      drain();
    }
  }

 private:
  void push(uint32_t p) {
    ctx_.included[p] = true;
    work_.push_back(p);
    for (uint32_t c : P_.unit(p).children)
      if (!ctx_.included[c]) push(c);
  }
  void drain() {
    while (!work_.empty()) {
      uint32_t p = work_.back();
      work_.pop_back();
      const Unit& u = P_.unit(p);
      const auto& rel = P_.relocs(u.section);
      for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) consider(rel[k], p);
    }
  }
  void consider(const Relocation& r, uint32_t from) {
    Target t = P_.resolve(r);
    if (t.kind != Target::Kind::unit || ctx_.included[t.unit]) return;
    const Unit& tu = P_.unit(t.unit);
    const std::string user = from == kNone ? std::string("special section entry") : ctx_.kernel_name(from);
    uint32_t twin = ctx_.corr.twin_of_patched[t.unit];
    if (tu.kind == UnitKind::function) {
      if (tu.parent == kNone && twin == kNone) push(t.unit);  // a new function
      return;
    }
    SectionRole role = P_.role(tu.section);
    if (role == SectionRole::strings || tu.fresh != FreshKind::none) return push(t.unit);
    if (tu.kind == UnitKind::anonymous) {
      if (!P_.is_writable(tu)) return push(t.unit);
      ctx_.refuse(user, std::string(refusal::kAnonymous) + " (" + tu.name + ")", std::string(refusal::kAnonymousHint));
      return;
    }
    if (P_.is_local(tu) && !P_.is_writable(tu)) return push(t.unit);
    if (twin == kNone) {
      if (ctx_.corr.ambiguous[t.unit] && P_.is_writable(tu)) {
        ctx_.refuse(tu.name, std::string(refusal::kAmbiguous), std::string(refusal::kAmbiguousHint));
        return;
      }
      return push(t.unit);  // a new variable
    }
    // An existing variable or unchanged global: a reference, resolved in the running kernel.
  }
  void split_special(uint32_t s) {
    const auto* spec = x86_64::find_special_section(P_.obj().sections[s].name);
    const Section& sec = P_.obj().sections[s];
    if (!spec || sec.size() % spec->entry_size != 0) {
      ctx_.refuse(sec.name, "special section size " + std::to_string(sec.size()) + " is not a multiple of its entry size",
                  "the kernel's special-section layout differs from what this noreboot knows (x86-64, Linux 6.1)");
      return;
    }
    const auto& rel = P_.relocs(s);
    KeptEntries kept;
    kept.section = s;
    size_t k = 0;
    const uint64_t n = sec.size() / spec->entry_size;
    for (uint64_t e = 0; e < n; ++e) {
      uint64_t begin = e * spec->entry_size, end = begin + spec->entry_size;
      while (k < rel.size() && rel[k].r_offset < begin) ++k;
      size_t first = k;
      bool keep = false;
      for (size_t j = first; j < rel.size() && rel[j].r_offset < end; ++j) {
        if (rel[j].r_offset != begin + spec->anchor_offset) continue;
        Target t = P_.resolve(rel[j]);
        keep = t.kind == Target::Kind::unit && ctx_.included[t.unit] &&
               P_.role(P_.unit(t.unit).section) == SectionRole::code;
      }
      if (!keep) continue;
      kept.entries.push_back(e);
      for (size_t j = first; j < rel.size() && rel[j].r_offset < end; ++j) consider(rel[j], kNone);
    }
    ctx_.result.stats.kept_special_entries += kept.entries.size();
    if (!kept.entries.empty()) ctx_.kept.push_back(std::move(kept));
  }

  DiffContext& ctx_;
  const ObjectIndex& P_;
  std::vector<uint32_t> work_;
};

}  // namespace

Result<DiffResult> diff_objects(const Object& orig, const Object& patched, const DiffOptions& options) {
  DiffResult result;
  auto total = std::make_unique<ScopedTimer>(result.stats, "total");
  // Pass 1: index both objects into units (functions, objects, anonymous sections).
  std::optional<ObjectIndex> oix, pix;
  {
    ScopedTimer t(result.stats, "index");
    NR_TRY(auto o, ObjectIndex::build(orig, options.orig_name));
    NR_TRY(auto p, ObjectIndex::build(patched, options.patched_name));
    oix.emplace(std::move(o));
    pix.emplace(std::move(p));
  }
  // Pass 2: pair every PATCHED unit with its ORIG twin.
  std::optional<DiffContext> ctx;
  {
    ScopedTimer t(result.stats, "correlate");
    ctx.emplace(*oix, *pix, result);
    apply_ignore_markers(*ctx);
  }
  // Pass 3: same / changed / new, and refusals.
  {
    ScopedTimer t(result.stats, "classify");
    classify_functions(*ctx);
    redirect_changed_clones(*ctx);
    classify_data(*ctx);
  }
  // Pass 4: what the patch must carry with the changed functions.
  {
    ScopedTimer t(result.stats, "include");
    Includer(*ctx).run();
  }
  // Pass 5: the output object (only for a patchable change: nothing is half-made otherwise).
  if (options.build_output && result.refused.empty() && !(result.changed.empty() && result.added.empty())) {
    ScopedTimer t(result.stats, "emit");
    NR_TRY_STATUS(emit_output(*ctx));
    result.has_output = true;
  }
  total.reset();
  return result;
}

}  // namespace noreboot::diff
