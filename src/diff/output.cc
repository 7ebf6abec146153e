// Pass 5: the output object, the input of module generation.
//
// It holds exactly what the patch needs (docs/differ.md is the contract):
//   - one section per included function (its own `.text.<name>` under the ORIG name, also when
//     the function shared a section such as `.sched.text` in PATCHED), `.cold` parts, new data,
//     copied literals and local read-only data, fresh per-site state;
//   - the kept entries of every special section (only those whose anchor is included code),
//     with their relocations, .orc_unwind kept parallel to .orc_unwind_ip;
//   - every other reference as an UNDEFINED symbol under the name the running kernel knows
//     (the ORIG name), recorded in DiffResult::references and in the `.noreboot.refs` section
//     with its binding in ORIG, because a file-static (LOCAL) target needs a livepatch symbol
//     with sympos and a GLOBAL one may not.
// Relocations keep their type; a "section symbol + addend" into an included unit is rebased on
// the output section, one into something not included becomes "symbol + offset in it".
#include <map>
#include <set>

#include "diff/context.h"
#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

namespace {

struct Placement {
  uint32_t out_section = 0;
  uint64_t base = 0;  // PATCHED offset x lands at x - base in out_section
};

class Emitter {
 public:
  explicit Emitter(DiffContext& ctx)
      : ctx_(ctx), P_(ctx.patched), src_(ctx.patched.obj()), out_(Object::make_empty()),
        place_(ctx.patched.units().size()) {
    out_.e_machine = src_.e_machine;
    out_.e_flags = src_.e_flags;
    out_.ei_osabi = src_.ei_osabi;
  }

  Status run() {
    place_units();
    define_symbols();
    for (uint32_t p = 0; p < P_.units().size(); ++p)
      if (ctx_.included[p]) NR_TRY_STATUS(copy_relocs(p));
    for (const KeptEntries& k : ctx_.kept) NR_TRY_STATUS(copy_special(k));
    for (const auto& [name, idx] : undef_)
      if (defined_.count(name))
        return Error(Errc::unsupported, "symbol " + name + " would be both defined by the patch and referenced in the "
                                        "running kernel (GCC renumbered a clone onto an existing name)");
    add_refs_section();
    Section stack;
    stack.name = ".note.GNU-stack";
    stack.sh_type = SHT_PROGBITS;
    out_.add_section(std::move(stack));
    NR_TRY_STATUS(out_.validate());
    ctx_.result.output = std::move(out_);
    return ok_status();
  }

 private:
  uint32_t new_section_like(const Section& s, std::string name) {
    Section c;
    c.name = std::move(name);
    c.sh_type = s.sh_type;
    c.sh_flags = s.sh_flags & ~(SHF_GROUP | SHF_LINK_ORDER);
    c.sh_addralign = s.sh_addralign;
    c.sh_entsize = s.sh_entsize;
    uint32_t i = out_.add_section(std::move(c));
    Symbol y;
    y.st_info = st_info(STB_LOCAL, STT_SECTION);
    y.st_shndx = static_cast<uint16_t>(i);
    sec_sym_[i] = out_.add_symbol(y);
    return i;
  }

  void place_units() {
    for (uint32_t p = 0; p < P_.units().size(); ++p) {
      if (!ctx_.included[p]) continue;
      const Unit& u = P_.unit(p);
      const Section& s = src_.sections[u.section];
      bool whole = P_.units_in(u.section).size() == 1 || u.kind == UnitKind::anonymous ||
                   P_.role(u.section) == SectionRole::strings;
      if (whole) {
        auto it = whole_.find(u.section);
        if (it == whole_.end()) {
          std::string name = s.name;
          if (u.kind == UnitKind::function && s.name == ".text." + u.name) name = ".text." + ctx_.kernel_name(p);
          uint32_t i = new_section_like(s, name);
          out_.sections[i].data = s.data;
          out_.sections[i].nobits_size = s.nobits_size;
          it = whole_.emplace(u.section, i).first;
        }
        place_[p] = {it->second, 0};
      } else {
        std::string name = (u.kind == UnitKind::function ? std::string(".text.") : s.name + ".") + ctx_.kernel_name(p);
        uint32_t i = new_section_like(s, name);
        if (s.sh_type == SHT_NOBITS) {
          out_.sections[i].nobits_size = u.size;
        } else {
          out_.sections[i].data.assign(s.data.begin() + static_cast<long>(u.offset),
                                       s.data.begin() + static_cast<long>(u.offset + u.size));
        }
        place_[p] = {i, u.offset};
      }
    }
  }

  void define_symbols() {
    for (uint32_t p = 0; p < P_.units().size(); ++p) {
      if (!ctx_.included[p]) continue;
      const Unit& u = P_.unit(p);
      if (u.sym == kNone) continue;
      std::vector<uint32_t> syms{u.sym};
      syms.insert(syms.end(), u.aliases.begin(), u.aliases.end());
      for (uint32_t s : syms) {
        Symbol y = src_.symbols[s];
        if (s == u.sym) y.name = ctx_.kernel_name(p);
        y.st_shndx = static_cast<uint16_t>(place_[p].out_section);
        y.st_value -= place_[p].base;
        defined_.insert(y.name);
        out_.add_symbol(std::move(y));
      }
    }
  }

  uint32_t undefined(const std::string& name, uint8_t orig_bind, uint8_t type, bool defined_in_object) {
    auto it = undef_.find(name);
    if (it != undef_.end()) return it->second;
    Symbol y;
    y.name = name;
    y.st_info = st_info(orig_bind == STB_WEAK ? STB_WEAK : STB_GLOBAL, type);
    y.st_shndx = SHN_UNDEF;
    uint32_t i = out_.add_symbol(std::move(y));
    undef_.emplace(name, i);
    ctx_.result.references.push_back({name, orig_bind, type, defined_in_object});
    return i;
  }

  Result<Relocation> map_reloc(const Relocation& r, uint64_t new_offset, const std::string& user) {
    Relocation out = r;
    out.r_offset = new_offset;
    Target t = P_.resolve(r);
    const Symbol& y = src_.symbols[r.r_sym];
    switch (t.kind) {
      case Target::Kind::undefined:
        out.r_sym = undefined(y.name, y.bind(), y.type(), false);
        return out;
      case Target::Kind::absolute: {
        auto it = abs_.find(r.r_sym);
        if (it == abs_.end()) it = abs_.emplace(r.r_sym, out_.add_symbol(y)).first;
        out.r_sym = it->second;
        return out;
      }
      case Target::Kind::symbol:
        out.r_sym = undefined(y.name, y.bind(), y.type(), true);
        return out;
      case Target::Kind::unresolved:
        return Error(Errc::unsupported, user + " refers to " + src_.symbol_name(r.r_sym) + "+" +
                                            std::to_string(static_cast<int64_t>(y.st_value) + r.r_addend) +
                                            ", which is neither code nor data the differ can carry or name");
      case Target::Kind::unit:
        break;
    }
    if (ctx_.included[t.unit]) {
      const Placement& pl = place_[t.unit];
      out.r_sym = sec_sym_.at(pl.out_section);
      out.r_addend = static_cast<int64_t>(y.st_value) + r.r_addend - static_cast<int64_t>(pl.base);
      return out;
    }
    const Unit& tu = P_.unit(t.unit);
    if (tu.kind == UnitKind::anonymous)
      return Error(Errc::unsupported, user + " refers to " + tu.name + ", which has no symbol to name it by");
    uint32_t twin = ctx_.corr.twin_of_patched[t.unit];
    const ObjectIndex& named_in = twin == kNone ? P_ : ctx_.orig;
    const Unit& nu = twin == kNone ? tu : ctx_.orig.unit(twin);
    out.r_sym = undefined(nu.name, named_in.bind(nu), named_in.type(nu), true);
    out.r_addend = t.offset_in_unit;
    return out;
  }

  uint32_t rela_of(uint32_t out_section) {
    auto it = rela_.find(out_section);
    if (it != rela_.end()) return it->second;
    uint32_t r = out_.add_rela_section(out_section);
    rela_.emplace(out_section, r);
    return r;
  }

  Status copy_relocs(uint32_t p) {
    const Unit& u = P_.unit(p);
    const auto& rel = P_.relocs(u.section);
    const Placement& pl = place_[p];
    for (size_t k = u.reloc_begin; k < u.reloc_end; ++k) {
      NR_TRY(Relocation r, map_reloc(rel[k], rel[k].r_offset - pl.base, ctx_.kernel_name(p)));
      out_.sections[rela_of(pl.out_section)].relocs.push_back(r);
    }
    return ok_status();
  }

  Status copy_special(const KeptEntries& k) {
    const Section& s = src_.sections[k.section];
    const auto* spec = x86_64::find_special_section(s.name);
    const uint64_t es = spec->entry_size;
    uint32_t o = new_section_like(s, s.name);
    Section& os = out_.sections[o];
    const auto& rel = P_.relocs(k.section);
    std::vector<Relocation> out_rel;
    size_t j = 0;
    for (size_t i = 0; i < k.entries.size(); ++i) {
      uint64_t begin = k.entries[i] * es;
      out_.sections[o].data.insert(out_.sections[o].data.end(), s.data.begin() + static_cast<long>(begin),
                                   s.data.begin() + static_cast<long>(begin + es));
      while (j < rel.size() && rel[j].r_offset < begin) ++j;
      for (size_t m = j; m < rel.size() && rel[m].r_offset < begin + es; ++m) {
        NR_TRY(Relocation r, map_reloc(rel[m], rel[m].r_offset - begin + i * es, s.name));
        out_rel.push_back(r);
      }
    }
    (void)os;
    if (!out_rel.empty()) out_.sections[rela_of(o)].relocs = std::move(out_rel);
    if (!spec->paired_with.empty()) {
      uint32_t ps = P_.obj().find_section(spec->paired_with);
      if (ps == 0) return ok_status();
      const Section& pair = src_.sections[ps];
      const uint64_t pes = spec->paired_entry_size;
      if (pair.sh_type != SHT_PROGBITS || pair.data.size() != (s.size() / es) * pes)
        return Error(Errc::invalid_input, P_.what() + ": " + pair.name + " has " + std::to_string(pair.size()) +
                                              " bytes, not one " + std::to_string(pes) + "-byte entry per " + s.name + " entry");
      uint32_t po = new_section_like(pair, pair.name);
      for (uint64_t e : k.entries)
        out_.sections[po].data.insert(out_.sections[po].data.end(), pair.data.begin() + static_cast<long>(e * pes),
                                      pair.data.begin() + static_cast<long>((e + 1) * pes));
    }
    return ok_status();
  }

  // One line per undefined symbol: "<bind in ORIG> <type> <defined|extern> <name>".
  void add_refs_section() {
    Section s;
    s.name = ".noreboot.refs";
    s.sh_type = SHT_PROGBITS;
    std::string text;
    for (const Reference& r : ctx_.result.references)
      text += std::string(bind_name(r.bind)) + " " + type_name(r.type) + " " +
              (r.defined_in_object ? "defined " : "extern ") + r.name + "\n";
    s.data.assign(text.begin(), text.end());
    out_.add_section(std::move(s));
  }

  DiffContext& ctx_;
  const ObjectIndex& P_;
  const Object& src_;
  Object out_;
  std::vector<Placement> place_;
  std::map<uint32_t, uint32_t> whole_;    // PATCHED section -> output section
  std::map<uint32_t, uint32_t> sec_sym_;  // output section -> its section symbol
  std::map<uint32_t, uint32_t> rela_;     // output section -> its RELA section
  std::map<std::string, uint32_t> undef_;
  std::map<uint32_t, uint32_t> abs_;
  std::set<std::string> defined_;
};

}  // namespace

Status emit_output(DiffContext& ctx) { return Emitter(ctx).run(); }

}  // namespace noreboot::diff
