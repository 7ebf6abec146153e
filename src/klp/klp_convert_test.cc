// The klp conversion on objects compiled here: a tiny "kernel" (two files defining static
// functions of the same name) linked into an executable stands in for vmlinux, and a patch
// object refers to its static, unexported and exported symbols. The test runs both passes
// around a real `ld -r` (with another object linked first, so section offsets move) and reads
// the result back.
#include "klp/klp_convert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "klp/module_gen.h"
#include "core/process.h"
#include "klp/test_files.h"

namespace noreboot::klp {
namespace {
namespace fs = std::filesystem;

using testing_files::relas_by_symbol;
using testing_files::write;

class Convert : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("klp_convert_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    write(dir_ / "kernel/a.c",
          "static int helper(int x) { return x + 1; }\n"
          "static int target_fn(void) { return helper(0); }\n"
          "int weak_fn(void) { return 7; }\n"
          "int use_a(void) { return target_fn(); }\n");
    write(dir_ / "kernel/b.c",
          "static int helper(int x) { return x + 2; }\n"
          "int hidden_global = 5;\n"
          "int exported_fn(void) { return 3; }\n"
          "static int target_fn(void) { return helper(1) + hidden_global; }\n"
          "int use_b(void) { return target_fn(); }\n"
          "int _start(void) { return use_a() + use_b(); }\n");
    // The differ's output for a fix in b.c: target_fn changed; helper is b.c's static.
    write(dir_ / "patch/b.c",
          "extern int nr_helper(int) __asm__(\"helper\");\n"
          "extern int hidden_global;\nint exported_fn(void);\n"
          "static __attribute__((used, noinline)) int target_fn(void)\n"
          "{ return nr_helper(10) + exported_fn() + hidden_global * 2; }\n"
          "static int (*const table[])(int) __attribute__((used)) = { nr_helper };\n");
    write(dir_ / "patch/first.c", "int first_in_link(void) { return 42; }\n"
                                  "static const int pad[64] __attribute__((used)) = {1};\n");
    write(dir_ / "jump/b.c",
          "extern int hidden_global;\n"
          "static __attribute__((used, noinline)) int target_fn(void) {\n"
          "  asm volatile(\".pushsection __jump_table,\\\"aw\\\"\\n.quad hidden_global\\n.popsection\");\n"
          "  return 0; }\n");
    write(dir_ / "weak/a.c", "__attribute__((weak, noinline)) int weak_fn(void) { return 8; }\n");
    std::string flags = " -O2 -fno-inline -ffunction-sections -fdata-sections -fno-pic -mcmodel=kernel -c ";
    auto r = run_shell("cd " + shell_quote(dir_.string()) +
                           " && (cd kernel && gcc -O1 -fno-inline -c a.c && gcc -O1 -fno-inline -c b.c)"
                           " && ld -static -e _start -o vmlinux kernel/a.o kernel/b.o"
                           " && (cd patch && gcc" + flags + "b.c && gcc" + flags + "first.c)"
                           " && (cd jump && gcc" + flags + "b.c) && (cd weak && gcc" + flags + "a.c)",
                       "compile");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    auto idx = SymbolIndex::from_elf((dir_ / "vmlinux").string(), "vmlinux", SymOrder::address);
    ASSERT_TRUE(idx.ok()) << idx.error().message();
    index_ = std::move(*idx);
    auto ex = ExportTable::parse("0x1\texported_fn\tvmlinux\tEXPORT_SYMBOL\t\n", "test");
    ASSERT_TRUE(ex.ok());
    exports_ = std::move(*ex);
  }

  static fs::path dir_;
  SymbolIndex index_;
  ExportTable exports_;
};
fs::path Convert::dir_;

TEST_F(Convert, BothPassesAroundARealLink) {
  auto obj = elf::read_object_file((dir_ / "patch/b.o").string());
  ASSERT_TRUE(obj.ok()) << obj.error().message();
  auto before = relas_by_symbol(*obj, ".rela.text.target_fn");
  ASSERT_TRUE(before.count("helper") && before.count("hidden_global") && before.count("exported_fn"));

  PatchObjectInput in;
  in.target = "vmlinux";
  in.functions = {{"target_fn", ""}};
  in.references["helper"] = {true, ""};  // static in b.c: the file comes from the object
  SymbolSources src{&index_, nullptr, &exports_};
  auto plan = prepare_patch_object(*obj, "test.o", in, src, 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->functions.size(), 1u);
  EXPECT_EQ(plan->functions[0].old_name, "target_fn");
  EXPECT_EQ(plan->functions[0].old_sympos, 2u);  // a.c's copy comes first in address order
  std::map<std::string, std::string> klp;
  for (const auto& s : plan->symbols) klp[s.klp_name] = s.placeholder;
  EXPECT_TRUE(klp.count(".klp.sym.vmlinux.helper,2"));
  EXPECT_TRUE(klp.count(".klp.sym.vmlinux.hidden_global,0"));
  EXPECT_EQ(klp.size(), 2u);
  EXPECT_EQ(plan->kept_exports, std::vector<std::string>{"exported_fn"});

  // Link like Kbuild does (ld -r), with another object first so merged sections move.
  auto prepared = (dir_ / "prepared.o").string();
  ASSERT_TRUE(elf::write_object_file(*obj, prepared).ok());
  auto linked = (dir_ / "linked.o").string();
  auto r = run_shell("ld -r -o " + shell_quote(linked) + " " + shell_quote((dir_ / "patch/first.o").string()) + " " +
                         shell_quote(prepared),
                     "ld -r");
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto ko = elf::read_object_file(linked);
  ASSERT_TRUE(ko.ok()) << ko.error().message();
  auto moved = finalize_module(*ko, linked, {*plan});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 3u);  // helper and hidden_global in the function, helper in the table
  auto out = (dir_ / "final.ko").string();
  ASSERT_TRUE(elf::write_object_file(*ko, out).ok());

  // Read the written file back and check the format of module-elf-format.rst.
  auto fin = elf::read_object_file(out);
  ASSERT_TRUE(fin.ok()) << fin.error().message();
  size_t ks = fin->find_section(".klp.rela.vmlinux..text.target_fn");
  ASSERT_NE(ks, 0u);
  const auto& h = fin->sections[ks];
  EXPECT_EQ(h.sh_type, elf::SHT_RELA);
  EXPECT_EQ(h.sh_flags, elf::SHF_ALLOC | elf::SHF_INFO_LINK | elf::SHF_RELA_LIVEPATCH);
  EXPECT_EQ(fin->sections[h.sh_info].name, ".text.target_fn");
  EXPECT_EQ(h.sh_link, fin->symtab_index());
  auto klp_relas = relas_by_symbol(*fin, ".klp.rela.vmlinux..text.target_fn");
  ASSERT_TRUE(klp_relas.count(".klp.sym.vmlinux.helper,2"));
  ASSERT_TRUE(klp_relas.count(".klp.sym.vmlinux.hidden_global,0"));
  // Same offsets, types and addends as in the compiler's object.
  EXPECT_EQ(klp_relas[".klp.sym.vmlinux.helper,2"].r_offset, before["helper"].r_offset);
  EXPECT_EQ(klp_relas[".klp.sym.vmlinux.helper,2"].r_type, before["helper"].r_type);
  EXPECT_EQ(klp_relas[".klp.sym.vmlinux.helper,2"].r_addend, before["helper"].r_addend);
  EXPECT_EQ(klp_relas[".klp.sym.vmlinux.hidden_global,0"].r_offset, before["hidden_global"].r_offset);
  // The ordinary relocations keep the exported one and lose the moved ones.
  auto normal = relas_by_symbol(*fin, ".rela.text.target_fn");
  EXPECT_TRUE(normal.count("exported_fn"));
  EXPECT_FALSE(normal.count(".klp.sym.vmlinux.helper,2"));
  // The data table's pointer to helper moved too, into its own .klp.rela section.
  bool table_moved = false;
  for (const auto& s : fin->sections)
    if (s.name.starts_with(".klp.rela.vmlinux..data.rel.ro") || s.name.starts_with(".klp.rela.vmlinux..rodata"))
      table_moved = true;
  EXPECT_TRUE(table_moved);
  for (const auto& s : fin->symbols) {
    if (!s.name.starts_with(".klp.sym.")) continue;
    EXPECT_EQ(s.st_shndx, elf::SHN_LIVEPATCH) << s.name;
    EXPECT_EQ(s.st_value, 0u);
    EXPECT_NE(s.bind(), elf::STB_LOCAL);
    EXPECT_FALSE(s.name.starts_with("__noreboot_klp_"));
  }
  // The alias the stub uses points at the patched function's code.
  bool alias = false;
  for (const auto& s : fin->symbols)
    if (s.name == plan->functions[0].new_symbol) {
      alias = true;
      EXPECT_EQ(s.bind(), elf::STB_GLOBAL);
      EXPECT_EQ(fin->sections[s.st_shndx].name, ".text.target_fn");
    }
  EXPECT_TRUE(alias);
  // readelf agrees that the file is well formed.
  auto re = run_shell("readelf -SsrW " + shell_quote(out), "readelf");
  ASSERT_TRUE(re.ok()) << re.error().message();
  EXPECT_NE(re->find("OS [0xff20] .klp.sym.vmlinux.helper,2"), std::string::npos) << *re;
  EXPECT_EQ(re->find("readelf: Warning"), std::string::npos) << *re;
}

TEST_F(Convert, VmlinuxSymbolInJumpTableIsAppliedAtLoad) {
  // .klp.rela.vmlinux.* is applied by the module loader before jump labels are processed,
  // so a __jump_table key that vmlinux does not export is fine.
  auto obj = elf::read_object_file((dir_ / "jump/b.o").string());
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "vmlinux";
  in.functions = {{"target_fn", ""}};
  SymbolSources src{&index_, nullptr, &exports_};
  auto plan = prepare_patch_object(*obj, "jump/b.o", in, src, 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  auto moved = finalize_module(*obj, "jump/b.o", {*plan});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 1u);
  uint32_t ks = obj->find_section(".klp.rela.vmlinux.__jump_table");
  ASSERT_NE(ks, 0u);
  EXPECT_EQ(obj->sections[obj->sections[ks].sh_info].name, "__jump_table");
}

TEST_F(Convert, RefusesModuleSymbolInJumpTable) {
  // Against a module's symbol, the relocation is applied only when that module loads: far
  // too late for the livepatch module's own __jump_table.
  auto mod = SymbolIndex::from_elf((dir_ / "kernel/b.o").string(), "mymod", SymOrder::symtab);
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  auto obj = elf::read_object_file((dir_ / "jump/b.o").string());
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "mymod";
  in.functions = {{"target_fn", ""}};
  SymbolSources src{&index_, &*mod, &exports_};
  auto plan = prepare_patch_object(*obj, "jump/b.o", in, src, 0);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  EXPECT_NE(plan.error().message().find("__jump_table"), std::string::npos) << plan.error().message();
  EXPECT_NE(plan.error().message().find("hidden_global"), std::string::npos);
  EXPECT_NE(plan.error().message().find("mymod"), std::string::npos);
}

TEST_F(Convert, ModuleTargetKeepsVmlinuxSymbolsInVmlinuxSections) {
  // A fix in module "mymod": its own static goes to .klp.rela.mymod.*, a vmlinux symbol the
  // module uses to .klp.rela.vmlinux.* (applied at load; the kernel refuses a vmlinux symbol
  // in a module's section). Other modules' symbols: klp_convert_modules_test.cc.
  auto mod = SymbolIndex::from_elf((dir_ / "kernel/a.o").string(), "mymod", SymOrder::symtab);
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  auto obj = elf::read_object_file((dir_ / "patch/b.o").string());
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "mymod";
  in.references["helper"] = {true, "a.c"};
  in.unit_file = "a.c";
  SymbolSources src{&index_, &*mod, &exports_};
  auto plan = prepare_patch_object(*obj, "patch/b.o", in, src, 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  auto moved = finalize_module(*obj, "patch/b.o", {*plan});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  auto mine = relas_by_symbol(*obj, ".klp.rela.mymod..text.target_fn");
  auto kernel = relas_by_symbol(*obj, ".klp.rela.vmlinux..text.target_fn");
  EXPECT_TRUE(mine.count(".klp.sym.mymod.helper,0"));
  EXPECT_TRUE(kernel.count(".klp.sym.vmlinux.hidden_global,0"));
}

TEST_F(Convert, WithoutFileMarkerTheObjectNameNamesTheUnit) {
  // The differ's output keeps no STT_FILE symbol; its file name (b.o) tells the unit (b.c).
  auto obj = elf::read_object_file((dir_ / "patch/b.o").string());
  ASSERT_TRUE(obj.ok());
  std::vector<bool> drop(obj->symbols.size(), false);
  for (size_t i = 1; i < obj->symbols.size(); ++i) drop[i] = obj->symbols[i].type() == elf::STT_FILE;
  ASSERT_TRUE(obj->remove_symbols(drop).ok());
  PatchObjectInput in;
  in.target = "vmlinux";
  in.functions = {{"target_fn", ""}};
  in.references["helper"] = {true, ""};
  SymbolSources src{&index_, nullptr, &exports_};
  auto anonymous = prepare_patch_object(*obj, "diff/unknown", in, src, 0);
  ASSERT_FALSE(anonymous.ok());  // two copies of helper and of target_fn, no way to tell
  EXPECT_NE(anonymous.error().message().find("ambiguous"), std::string::npos) << anonymous.error().message();
  obj = elf::read_object_file((dir_ / "patch/b.o").string());
  ASSERT_TRUE(obj->remove_symbols(drop).ok());
  auto named = prepare_patch_object(*obj, "work/diff/kernel/b.o", in, src, 0);
  ASSERT_TRUE(named.ok()) << named.error().message();
  EXPECT_EQ(named->functions[0].old_sympos, 2u);
  bool helper = false;
  for (const auto& p : named->symbols) helper |= p.klp_name == ".klp.sym.vmlinux.helper,2";
  EXPECT_TRUE(helper);
}

TEST_F(Convert, RefusesPatchingAWeakDefaultTheImageOverrides) {
  auto obj = elf::read_object_file((dir_ / "weak/a.o").string());
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "vmlinux";
  in.functions = {{"weak_fn", ""}};
  SymbolSources src{&index_, nullptr, &exports_};
  auto plan = prepare_patch_object(*obj, "test.o", in, src, 0);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("__weak"), std::string::npos) << plan.error().message();
}

TEST_F(Convert, RefusesUnknownFunctionAndAmbiguousReference) {
  auto obj = elf::read_object_file((dir_ / "patch/b.o").string());
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "vmlinux";
  in.functions = {{"not_in_object", ""}};
  in.references["helper"] = {true, "c.c"};  // no unit c.c defines helper
  SymbolSources src{&index_, nullptr, &exports_};
  auto plan = prepare_patch_object(*obj, "test.o", in, src, 0);
  ASSERT_FALSE(plan.ok());
  // Every problem is reported, not just the first.
  EXPECT_NE(plan.error().message().find("not_in_object"), std::string::npos);
  EXPECT_NE(plan.error().message().find("helper"), std::string::npos);
}

TEST(Stub, DescribesEveryObjectWithReplace) {
  ConvertPlan a{"vmlinux", {}, {{"cmdline_proc_show", 0, "__noreboot_new_0_0"}}, {}};
  ConvertPlan b{"xfs", {}, {{"xfs_foo", 3, "__noreboot_new_1_0"}}, {}};
  auto c = generate_stub_source("fix \"quoted\"", {a, b});
  EXPECT_NE(c.find(".old_name = \"cmdline_proc_show\", .new_func = __noreboot_new_0_0, .old_sympos = 0"),
            std::string::npos) << c;
  EXPECT_NE(c.find(".old_sympos = 3"), std::string::npos);
  EXPECT_NE(c.find(".name = NULL"), std::string::npos);
  EXPECT_NE(c.find(".name = \"xfs\""), std::string::npos);
  EXPECT_NE(c.find(".replace = true"), std::string::npos);
  EXPECT_NE(c.find("MODULE_INFO(livepatch, \"Y\")"), std::string::npos);
  EXPECT_NE(c.find("MODULE_LICENSE(\"GPL\")"), std::string::npos);
  EXPECT_NE(c.find("fix \\\"quoted\\\""), std::string::npos);
}

}  // namespace
}  // namespace noreboot::klp
