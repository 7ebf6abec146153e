// Unit tests of correlation, fingerprints and the differ's result on hand-built objects: the
// exact cases (renumbered statics, moved literals) without depending on what GCC emits today.
#include <gtest/gtest.h>

#include <map>

#include "diff/correlate.h"
#include "diff/differ.h"
#include "diff/fingerprint.h"
#include "diff/object_index.h"
#include "elf/arch_x86_64.h"

namespace noreboot::diff {
namespace {

using namespace noreboot::elf;

// A small object builder: functions with bytes and relocations, variables, strings.
class Builder {
 public:
  Builder() : obj_(Object::make_empty()) {
    Section c;
    c.name = ".comment";
    c.sh_type = SHT_PROGBITS;
    c.data = {'G', 'C', 'C', 0};
    obj_.add_section(c);
    undef("__fentry__");
  }
  uint32_t undef(const std::string& name) {
    Symbol y;
    y.name = name;
    y.st_info = st_info(STB_GLOBAL, STT_NOTYPE);
    return obj_.add_symbol(y);
  }
  // A traceable function: call __fentry__, then `body` bytes.
  uint32_t function(const std::string& name, std::vector<uint8_t> body, uint8_t bind = STB_GLOBAL) {
    Section s;
    s.name = ".text." + name;
    s.sh_type = SHT_PROGBITS;
    s.sh_flags = SHF_ALLOC | SHF_EXECINSTR;
    s.data = {0xe8, 0, 0, 0, 0};
    s.data.insert(s.data.end(), body.begin(), body.end());
    uint32_t sec = obj_.add_section(s);
    Symbol y;
    y.name = name;
    y.st_info = st_info(bind, STT_FUNC);
    y.st_shndx = static_cast<uint16_t>(sec);
    y.st_size = obj_.sections[sec].data.size();
    uint32_t sym = obj_.add_symbol(y);
    uint32_t rela = obj_.add_rela_section(sec);
    obj_.sections[rela].relocs.push_back({1, x86_64::R_X86_64_PLT32, obj_.find_symbol("__fentry__"), -4});
    rela_of_[sec] = rela;
    (void)sym;
    return sec;
  }
  uint32_t variable(const std::string& name, uint64_t size, uint8_t bind = STB_LOCAL) {
    Section s;
    s.name = ".bss." + name;
    s.sh_type = SHT_NOBITS;
    s.sh_flags = SHF_ALLOC | SHF_WRITE;
    s.nobits_size = size;
    uint32_t sec = obj_.add_section(s);
    Symbol y;
    y.name = name;
    y.st_info = st_info(bind, STT_OBJECT);
    y.st_shndx = static_cast<uint16_t>(sec);
    y.st_size = size;
    obj_.add_symbol(y);
    return sec;
  }
  uint32_t strings(const std::string& name, const std::string& contents) {
    Section s;
    s.name = name;
    s.sh_type = SHT_PROGBITS;
    s.sh_flags = SHF_ALLOC | SHF_MERGE | SHF_STRINGS;
    s.sh_entsize = 1;
    s.data.assign(contents.begin(), contents.end());
    return obj_.add_section(s);
  }
  uint32_t section_symbol(uint32_t sec) {
    Symbol y;
    y.st_info = st_info(STB_LOCAL, STT_SECTION);
    y.st_shndx = static_cast<uint16_t>(sec);
    return obj_.add_symbol(y);
  }
  // A PC32 reference at `offset` of function section `fn` to section `target` + addend.
  void ref(uint32_t fn, uint64_t offset, uint32_t target, int64_t addend) {
    obj_.sections[rela_of_.at(fn)].relocs.push_back({offset, x86_64::R_X86_64_PC32, section_symbol(target), addend});
  }
  Object& obj() { return obj_; }

 private:
  Object obj_;
  std::map<uint32_t, uint32_t> rela_of_;
};

const std::vector<uint8_t> kLoad = {0x8b, 0x05, 0, 0, 0, 0, 0xc3};  // mov x(%rip),%eax; ret

// ORIG: ticks uses count.0, tocks uses count.1. PATCHED: GCC numbered them the other way round
// and ticks changed. Correlation must pair each with the one its function uses.
TEST(Correlate, StaticLocalsFollowTheirFunctionWhenRenumbered) {
  Builder o;
  uint32_t oc0 = o.variable("count.0", 4), oc1 = o.variable("count.1", 4);
  uint32_t ot = o.function("ticks", kLoad), oo = o.function("tocks", kLoad);
  o.ref(ot, 7, oc0, -4);
  o.ref(oo, 7, oc1, -4);
  Builder p;
  uint32_t pc0 = p.variable("count.0", 4), pc1 = p.variable("count.1", 4);
  std::vector<uint8_t> changed = kLoad;
  changed.insert(changed.begin() + 6, {0xff, 0xc0});  // inc %eax before ret
  uint32_t pt = p.function("ticks", changed), po = p.function("tocks", kLoad);
  p.ref(pt, 7, pc1, -4);  // ticks now uses count.1
  p.ref(po, 7, pc0, -4);

  auto oix = ObjectIndex::build(o.obj(), "orig");
  auto pix = ObjectIndex::build(p.obj(), "patched");
  ASSERT_TRUE(oix.ok()) << oix.error().message();
  ASSERT_TRUE(pix.ok()) << pix.error().message();
  Correlation c = correlate(*oix, *pix);
  auto unit_named = [](const ObjectIndex& ix, const std::string& n) {
    for (uint32_t u = 0; u < ix.units().size(); ++u)
      if (ix.unit(u).name == n) return u;
    return kNone;
  };
  EXPECT_EQ(c.twin_of_patched[unit_named(*pix, "count.1")], unit_named(*oix, "count.0"));
  EXPECT_EQ(c.twin_of_patched[unit_named(*pix, "count.0")], unit_named(*oix, "count.1"));

  auto r = diff_objects(o.obj(), p.obj());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->changed, std::vector<std::string>{"ticks"});  // tocks did not change: same variable
  EXPECT_TRUE(r->added.empty());
  ASSERT_TRUE(r->has_output);
  // ticks refers to the running kernel's count.0 (ORIG name), as a file-local reference.
  bool found = false;
  for (const Reference& ref : r->references)
    if (ref.name == "count.0") {
      found = true;
      EXPECT_EQ(ref.bind, STB_LOCAL);
      EXPECT_TRUE(ref.defined_in_object);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(r->output.find_symbol("count.1"), 0u);
  auto bytes = write_object(r->output);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_TRUE(read_object(*bytes, "out").ok());
}

// A literal that moved inside its string section is the same literal.
TEST(Fingerprint, StringsCompareByContentNotOffset) {
  Builder o;
  uint32_t os = o.strings(".rodata.str1.1", std::string("hello\0", 6));
  uint32_t of = o.function("greet", kLoad);
  o.ref(of, 7, os, 0 - 4);
  Builder p;
  uint32_t ps = p.strings(".rodata.str1.1", std::string("new one\0hello\0", 14));
  uint32_t pf = p.function("greet", kLoad);
  p.ref(pf, 7, ps, 8 - 4);
  auto r = diff_objects(o.obj(), p.obj());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->no_change());

  Builder q;
  uint32_t qs = q.strings(".rodata.str1.1", std::string("hullo\0", 6));
  uint32_t qf = q.function("greet", kLoad);
  q.ref(qf, 7, qs, 0 - 4);
  auto r2 = diff_objects(o.obj(), q.obj());
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->changed, std::vector<std::string>{"greet"});
}

// A function without `call __fentry__` is refused when it changes.
TEST(Differ, RefusesUntraceableChange) {
  Builder o;
  o.function("plain", kLoad);
  Builder p;
  std::vector<uint8_t> changed = kLoad;
  changed[6] = 0x90;
  p.function("plain", changed);
  // Drop the fentry relocations of both.
  for (Object* obj : {&o.obj(), &p.obj()})
    for (Section& s : obj->sections) s.relocs.clear();
  auto r = diff_objects(o.obj(), p.obj());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->refused.size(), 1u);
  EXPECT_EQ(r->refused[0].symbol, "plain");
  EXPECT_NE(r->refused[0].reason.find("cannot be traced"), std::string::npos);
  EXPECT_FALSE(r->refused[0].hint.empty());
  EXPECT_FALSE(r->has_output);
}

TEST(Differ, ReportsNewAndRemovedFunctions) {
  Builder o;
  o.function("old_one", kLoad);
  o.function("kept", kLoad);
  Builder p;
  p.function("kept", kLoad);
  p.function("brand_new", kLoad);
  auto r = diff_objects(o.obj(), p.obj());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changed.empty());
  EXPECT_EQ(r->added, std::vector<std::string>{"brand_new"});
  EXPECT_EQ(r->removed, std::vector<std::string>{"old_one"});
  ASSERT_TRUE(r->has_output);
  EXPECT_NE(r->output.find_section(".text.brand_new"), 0u);
  EXPECT_EQ(r->output.find_section(".text.kept"), 0u);
}

TEST(Differ, MalformedSymbolRangeIsAnError) {
  Builder o;
  uint32_t f = o.function("f", kLoad);
  o.obj().symbols[o.obj().find_symbol("f")].st_size = 1000;
  (void)f;
  auto r = diff_objects(o.obj(), o.obj());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("symbol f"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace noreboot::diff
