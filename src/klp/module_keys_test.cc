// Static branches and static calls on a module's keys (module_keys.h), on objects assembled
// here with the exact entry layouts of Linux 6.1 x86-64 (objtool's NOPs, the `2 | branch` key
// bits of arch_static_branch, a cold target in another section). A tiny module `tmod` defines
// the tracepoint, static-call key, trampoline and a feature key; a tiny "vmlinux" a key of its
// own. The patch objects go through neutralize_module_keys alone and through
// prepare_patch_object.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "elf/object.h"
#include "klp/klp_convert.h"
#include "klp/module_keys.h"
#include "core/process.h"
#include "klp/test_files.h"

namespace noreboot::klp {
namespace {
namespace fs = std::filesystem;
using testing_files::write;

// tmod_fn: a tracepoint branch as objtool leaves it (2-byte NOP, target in the function), a
// static call of the tracepoint's trampoline, a second tracepoint branch with a 5-byte NOP and
// its target in the .cold section, and a branch on a vmlinux key.
constexpr const char* kTracepointFix = R"(
	.section .text.tmod_fn,"ax",@progbits
	.globl tmod_fn
	.type tmod_fn,@function
tmod_fn:
1:	.byte 0x66, 0x90
	xorl %eax, %eax
	ret
2:	call __SCT__tp_func_t_hit
	movl $1, %eax
	ret
3:	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
4:	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
	ret
	.size tmod_fn, .-tmod_fn
	.section .text.unlikely.tmod_fn,"ax",@progbits
5:	movl $2, %eax
	ret
	.section __jump_table,"aw"
	.balign 8
	.long 1b - .
	.long 2b - .
	.quad __tracepoint_t_hit + 10 - .
	.long 4b - .
	.long 2b - .
	.quad vm_key + 2 - .
	.long 3b - .
	.long 5b - .
	.quad __tracepoint_t_hit + 10 - .
	.section .static_call_sites,"aw"
	.long 2b - .
	.long __SCK__tp_func_t_hit - .
)";

// A branch on the module's own feature key (static_branch_unlikely(&t_feature_key)).
constexpr const char* kFeatureKeyFix = R"(
	.section .text.tmod_fn,"ax",@progbits
	.globl tmod_fn
	.type tmod_fn,@function
tmod_fn:
1:	.byte 0x66, 0x90
	xorl %eax, %eax
	ret
2:	movl $1, %eax
	ret
	.size tmod_fn, .-tmod_fn
	.section __jump_table,"aw"
	.balign 8
	.long 1b - .
	.long 2b - .
	.quad t_feature_key + 2 - .
)";

class ModuleKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("klp_module_keys_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    write(dir_ / "vm.c", "long vm_key[2];\nint _start(void) { return (int)vm_key[0]; }\n");
    write(dir_ / "t.c",
          "char __tracepoint_t_hit[64];\nchar __SCK__tp_func_t_hit[16];\nchar t_feature_key[16];\n"
          "void __SCT__tp_func_t_hit(void) {}\nint tmod_fn(void) { return 0; }\n");
    write(dir_ / "tp.s", kTracepointFix);
    write(dir_ / "feature.s", kFeatureKeyFix);
    std::string cc = "gcc -O2 -ffunction-sections -fdata-sections -fno-pic -mcmodel=kernel -c ";
    auto r = run_shell("cd " + shell_quote(dir_.string()) +
                           " && gcc -O1 -c -o vm.o vm.c && ld -static -e _start -o vmlinux vm.o"
                           " && " + cc + "-o tmod.ko t.c && as -o tp.o tp.s && as -o feature.o feature.s",
                       "compile");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    auto vm = SymbolIndex::from_elf((dir_ / "vmlinux").string(), "vmlinux", SymOrder::address);
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    vmlinux_ = std::move(*vm);
    auto t = SymbolIndex::from_elf((dir_ / "tmod.ko").string(), "tmod", SymOrder::symtab);
    ASSERT_TRUE(t.ok()) << t.error().message();
    tmod_ = std::move(*t);
    auto ex = ExportTable::parse("", "empty.symvers");
    ASSERT_TRUE(ex.ok()) << ex.error().message();
    exports_ = std::move(*ex);
  }

  static elf::Object read(const std::string& name) {
    auto o = elf::read_object_file((dir_ / name).string());
    EXPECT_TRUE(o.ok()) << o.error().message();
    return o.ok() ? std::move(*o) : elf::Object::make_empty();
  }
  static bool module_owned(const std::string& name) { return name != "vm_key"; }

  static fs::path dir_;
  SymbolIndex vmlinux_, tmod_;
  ExportTable exports_;
};
fs::path ModuleKeys::dir_;

// Label offsets in tmod_fn of kTracepointFix: 1 at 0 (2-byte NOP), 2 at 5, 3 at 0x10 (5-byte
// NOP, target 5 in .text.unlikely.tmod_fn at 0), 4 at 0x15 (vmlinux key).
TEST_F(ModuleKeys, TracepointBranchesJumpAndStaticCallsUseTheTrampoline) {
  elf::Object obj = read("tp.o");
  auto report = neutralize_module_keys(obj, "tmod", module_owned);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_TRUE(report->refusals.empty());
  EXPECT_EQ(report->tracepoints_always_checked, (std::vector<std::string>{"t_hit", "t_hit"}));
  EXPECT_EQ(report->static_calls_via_trampoline, std::vector<std::string>{"__SCK__tp_func_t_hit"});

  // Only the vmlinux key's entry is left, with its three relocations moved to entry 0.
  uint32_t jt = obj.find_section("__jump_table");
  ASSERT_NE(jt, 0u);
  EXPECT_EQ(obj.sections[jt].size(), 16u);
  uint32_t jt_rela = obj.rela_for(jt);
  ASSERT_EQ(obj.sections[jt_rela].relocs.size(), 3u);
  for (const auto& r : obj.sections[jt_rela].relocs) {
    EXPECT_LT(r.r_offset, 16u);
    if (r.r_offset == 8) {
      EXPECT_EQ(obj.symbols[r.r_sym].name, "vm_key");
    }
  }
  uint32_t sc = obj.find_section(".static_call_sites");
  ASSERT_NE(sc, 0u);
  EXPECT_EQ(obj.sections[sc].size(), 0u);
  EXPECT_TRUE(obj.rela_for(sc) == 0 || obj.sections[obj.rela_for(sc)].relocs.empty());

  const auto& text = obj.sections[obj.find_section(".text.tmod_fn")].data;
  // 2-byte NOP at 0 -> jmp +3 (to label 2 at 5).
  EXPECT_EQ(text[0], 0xeb);
  EXPECT_EQ(text[1], 0x03);
  // 5-byte NOP at 0x10 -> jmp rel32 to .text.unlikely.tmod_fn+0 through a new relocation.
  EXPECT_EQ(text[0x10], 0xe9);
  uint32_t text_rela = obj.rela_for(obj.find_section(".text.tmod_fn"));
  ASSERT_NE(text_rela, 0u);
  bool found = false;
  for (const auto& r : obj.sections[text_rela].relocs) {
    if (r.r_offset != 0x11) continue;
    found = true;
    EXPECT_EQ(r.r_type, 2u);  // R_X86_64_PC32
    EXPECT_EQ(obj.symbols[r.r_sym].st_shndx, obj.find_section(".text.unlikely.tmod_fn"));
    EXPECT_EQ(r.r_addend, -4);
  }
  EXPECT_TRUE(found);
  // The vmlinux key's branch is untouched.
  EXPECT_EQ(text[0x15], 0x0f);
  // The dropped static call's key is gone from the symbol table (modpost would see it as an
  // undefined symbol of tmod and write depends=tmod); the trampoline, still called, stays.
  EXPECT_EQ(obj.find_symbol("__SCK__tp_func_t_hit"), 0u);
  EXPECT_EQ(obj.find_symbol("__tracepoint_t_hit"), 0u);
  EXPECT_NE(obj.find_symbol("__SCT__tp_func_t_hit"), 0u);
}

TEST_F(ModuleKeys, PrepareAcceptsTracepointsOfTheTargetModule) {
  elf::Object obj = read("tp.o");
  PatchObjectInput in;
  in.target = "tmod";
  in.functions = {{"tmod_fn", ""}};
  SymbolSources src{&vmlinux_, &tmod_, &exports_};
  auto plan = prepare_patch_object(obj, "tp.o", in, src, 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->static_calls_via_trampoline, std::vector<std::string>{"__SCK__tp_func_t_hit"});
  EXPECT_EQ(plan->tracepoints_always_checked.size(), 2u);
  // The trampoline call is ordinary code: a livepatch symbol of tmod; the vmlinux key stays in
  // __jump_table as a vmlinux livepatch symbol; the tracepoint itself is not referenced at all.
  std::map<std::string, std::string> owner_of;
  for (const auto& s : plan->symbols) owner_of[s.klp_name] = s.owner;
  EXPECT_EQ(owner_of.count(".klp.sym.tmod.__SCT__tp_func_t_hit,0"), 1u);
  EXPECT_EQ(owner_of.count(".klp.sym.vmlinux.vm_key,0"), 1u);
  for (const auto& s : plan->symbols) EXPECT_EQ(s.klp_name.find("__tracepoint_"), std::string::npos) << s.klp_name;
}

TEST_F(ModuleKeys, OtherModuleKeysAreRefusedNamingKeyAndWayOut) {
  elf::Object obj = read("feature.o");
  PatchObjectInput in;
  in.target = "tmod";
  in.functions = {{"tmod_fn", ""}};
  SymbolSources src{&vmlinux_, &tmod_, &exports_};
  auto plan = prepare_patch_object(obj, "feature.o", in, src, 0);
  ASSERT_FALSE(plan.ok());
  const std::string m = plan.error().message();
  EXPECT_NE(m.find("'t_feature_key' (a symbol of a module, tmod or one it depends on) is the key of a static "
                   "branch in tmod_fn (__jump_table)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("would link the branch to a wrong key"), std::string::npos) << m;
  EXPECT_NE(m.find("static_key_enabled(&t_feature_key)"), std::string::npos) << m;
}

}  // namespace
}  // namespace noreboot::klp
