// The klp conversion across modules and across the patch objects of one livepatch, on objects
// compiled here. A tiny "vmlinux" (an executable), a target module `tmod` and a module `o-mod`
// that tmod depends on (two files linked with `ld -r`, so one of its exported names also has a
// static twin and sympos 2) stand in for the kernel; a small Module.symvers says who exports
// what. The patch objects go through both passes around a real `ld -r`, and the result is read
// back. RealKernel.* does the same with the cached kernel's nfsd, sunrpc and usb-storage, and
// builds a whole module through modpost when the cache has the vmlinux index.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "core/bundle.h"
#include "core/test_kernel_cache.h"
#include "core/file_io.h"
#include "klp/klp_convert.h"
#include "klp/module_gen.h"
#include "core/process.h"
#include "klp/symbol_cache.h"
#include "klp/test_files.h"

namespace noreboot::klp {
namespace {
namespace fs = std::filesystem;

using testing_files::relas_by_symbol;
using testing_files::write;

constexpr const char* kSymvers =
    "0x1\tvm_exported\tvmlinux\tEXPORT_SYMBOL\t\n"
    "0x2\tvm_ns_exported\tvmlinux\tEXPORT_SYMBOL_GPL\tVM_NS\n"
    "0x3\to_reserve\tnet/omod/o-mod\tEXPORT_SYMBOL_GPL\t\n"
    "0x4\to_commit\tnet/omod/o-mod\tEXPORT_SYMBOL\tO_NS\n"
    "0x5\to_debug\tnet/omod/o-mod\tEXPORT_SYMBOL_GPL\t\n"
    "0x6\to_table\tnet/omod/o-mod\tEXPORT_SYMBOL\t\n"
    "0x7\tt_exported\tdrivers/tmod\tEXPORT_SYMBOL\t\n"
    "0x8\tu_fn\tdrivers/umod\tEXPORT_SYMBOL\t\n";

class CrossModule : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("klp_xmod_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    write(dir_ / "kernel/vm.c",
          "int vm_exported(void) { return 1; }\n"
          "int vm_ns_exported(void) { return 2; }\n"
          "int vm_hidden = 3;\n"
          "int _start(void) { return vm_exported() + vm_ns_exported() + vm_hidden; }\n");
    // o-mod: o1.c's static o_commit comes first in the module's symbol table, o2.c's exported
    // global second, so the export is `o_commit,2`.
    write(dir_ / "omod/o1.c",
          "static __attribute__((noinline, used)) int o_commit(void) { return 4; }\n"
          "int o_one(void) { return o_commit(); }\n");
    write(dir_ / "omod/o2.c",
          "int o_commit(void) { return 5; }\n"
          "int o_reserve(int x) { return x; }\n"
          "int o_debug = 1;\n"
          "int o_table[8];\n");
    write(dir_ / "tmod/t.c",
          "static __attribute__((noinline, used)) int t_helper(int x) { return x; }\n"
          "int t_exported(void) { return t_helper(1); }\n"
          "int tmod_fn(void) { return t_exported(); }\n");
    // The differ's output for a fix of tmod_fn that calls o-mod's exports and vmlinux.
    write(dir_ / "patch/tmod_fn.c",
          "extern int o_reserve(int), o_commit(void), o_debug, o_table[];\n"
          "extern int vm_exported(void), vm_ns_exported(void), vm_hidden, t_exported(void);\n"
          "__attribute__((noinline)) int tmod_fn(void)\n"
          "{ return o_reserve(5) + o_commit() + o_debug + o_table[3] + vm_exported() + vm_ns_exported()\n"
          "         + vm_hidden + t_exported(); }\n");
    write(dir_ / "patch/first.c", "int first_in_link(void) { return 42; }\n");
    // A module's export used as a static key: read while the livepatch loads, too early.
    write(dir_ / "jump/tmod_fn.c",
          "extern int o_debug;\n"
          "__attribute__((noinline)) int tmod_fn(void) {\n"
          "  asm volatile(\".pushsection __jump_table,\\\"aw\\\"\\n.quad o_debug\\n.popsection\");\n"
          "  return 0; }\n");
    write(dir_ / "other/uses_umod.c",
          "extern int u_fn(void);\n__attribute__((noinline)) int tmod_fn(void) { return u_fn(); }\n");
    // A fix whose two files share something new: a.c (vmlinux) defines, b.c (tmod) uses.
    write(dir_ / "share/a.c",
          "int nr_new_helper(int x) { return x * 3; }\n"
          "int nr_new_var = 7;\n");
    write(dir_ / "share/b.c",
          "extern int nr_new_helper(int), nr_new_var;\n"
          "__attribute__((noinline)) int tmod_fn(void) { return nr_new_helper(1) + nr_new_var; }\n");
    write(dir_ / "share/dup.c", "int nr_new_helper(int x) { return x; }\n");
    // Module .modinfo sections, as modpost writes them.
    write(dir_ / "modinfo/dep.c",
          "__attribute__((section(\".modinfo\"), used, aligned(1))) static const char a[] = \"name=nr_dep\";\n"
          "__attribute__((section(\".modinfo\"), used, aligned(1))) static const char b[] = \"depends=sunrpc,lockd\";\n");
    write(dir_ / "modinfo/nodep.c",
          "__attribute__((section(\".modinfo\"), used, aligned(1))) static const char a[] = \"name=nr_ok\";\n"
          "__attribute__((section(\".modinfo\"), used, aligned(1))) static const char b[] = \"depends=\";\n");
    std::string cc = "gcc -O2 -fno-inline -ffunction-sections -fdata-sections -fno-pic -mcmodel=kernel -c ";
    auto r = run_shell("cd " + shell_quote(dir_.string()) +
                           " && gcc -O1 -c -o kernel/vm.o kernel/vm.c && ld -static -e _start -o vmlinux kernel/vm.o"
                           " && " + cc + "-o omod/o1.o omod/o1.c && " + cc + "-o omod/o2.o omod/o2.c"
                           " && ld -r -o omod/o-mod.ko omod/o1.o omod/o2.o"
                           " && " + cc + "-o tmod/tmod.ko tmod/t.c"
                           " && for f in patch/tmod_fn patch/first jump/tmod_fn other/uses_umod share/a share/b"
                           "   share/dup modinfo/dep modinfo/nodep; do " + cc + "-o $f.o $f.c || exit 1; done",
                       "compile");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    auto load = [](const std::string& path, const std::string& name, SymOrder order, SymbolIndex& out) {
      auto idx = SymbolIndex::from_elf((dir_ / path).string(), name, order);
      ASSERT_TRUE(idx.ok()) << idx.error().message();
      out = std::move(*idx);
    };
    load("vmlinux", "vmlinux", SymOrder::address, vmlinux_);
    load("tmod/tmod.ko", "tmod", SymOrder::symtab, tmod_);
    load("omod/o-mod.ko", "o_mod", SymOrder::symtab, omod_);
    auto ex = ExportTable::parse(kSymvers, "test.symvers");
    ASSERT_TRUE(ex.ok()) << ex.error().message();
    exports_ = std::move(*ex);
  }

  // The sources for a patch of tmod, which depends on o-mod.
  SymbolSources tmod_sources() {
    SymbolSources src{&vmlinux_, &tmod_, &exports_};
    src.other_module = [this](const std::string& name) -> Result<const SymbolIndex*> {
      if (name == "o_mod") return &omod_;
      return Error(Errc::not_found, "module '" + name + "' is not shipped");
    };
    src.target_depends = {"o_mod"};
    return src;
  }

  static Result<elf::Object> read(const std::string& rel) { return elf::read_object_file((dir_ / rel).string()); }

  static fs::path dir_;
  SymbolIndex vmlinux_, tmod_, omod_;
  ExportTable exports_;
};
fs::path CrossModule::dir_;

std::set<std::string> section_names(const elf::Object& o, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& s : o.sections)
    if (s.name.starts_with(prefix)) out.insert(s.name);
  return out;
}

// ld -r of the prepared objects behind another object (so merged sections move), read back.
Result<elf::Object> link(const fs::path& dir, const std::vector<elf::Object>& prepared, const std::string& name) {
  std::string inputs = shell_quote((dir / "patch/first.o").string());
  for (size_t i = 0; i < prepared.size(); ++i) {
    std::string p = (dir / (name + "_" + std::to_string(i) + ".o")).string();
    NR_TRY_STATUS(elf::write_object_file(prepared[i], p));
    inputs += " " + shell_quote(p);
  }
  std::string out = (dir / (name + ".ko")).string();
  NR_TRY_STATUS(run_shell("ld -r -o " + shell_quote(out) + " " + inputs, "ld -r"));
  return elf::read_object_file(out);
}

TEST_F(CrossModule, AnotherModulesExportsBecomeLivepatchSymbolsOfTheTarget) {
  auto obj = read("patch/tmod_fn.o");
  ASSERT_TRUE(obj.ok()) << obj.error().message();
  auto before = relas_by_symbol(*obj, ".rela.text.tmod_fn");
  for (const char* n : {"o_reserve", "o_commit", "o_debug", "o_table", "vm_exported", "vm_hidden", "t_exported"})
    ASSERT_TRUE(before.count(n)) << n;
  ASSERT_NE(before["o_table"].r_addend, before["o_debug"].r_addend);  // o_table[3]: a real addend

  PatchObjectInput in;
  in.target = "tmod";
  in.functions = {{"tmod_fn", ""}};
  auto plan = prepare_patch_object(*obj, "patch/tmod_fn.o", in, tmod_sources(), 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  std::map<std::string, const KlpSymbolPlan*> klp;
  for (const auto& s : plan->symbols) klp[s.klp_name] = &s;
  EXPECT_TRUE(klp.count(".klp.sym.o_mod.o_reserve,0"));
  EXPECT_TRUE(klp.count(".klp.sym.o_mod.o_commit,2"));  // the module's export, not o1.c's static
  EXPECT_TRUE(klp.count(".klp.sym.o_mod.o_debug,0"));
  EXPECT_TRUE(klp.count(".klp.sym.o_mod.o_table,0"));
  EXPECT_TRUE(klp.count(".klp.sym.tmod.t_exported,0"));  // the target's own export
  EXPECT_TRUE(klp.count(".klp.sym.vmlinux.vm_hidden,0"));
  EXPECT_EQ(klp.size(), 6u);
  for (const auto& [name, p] : klp)
    EXPECT_EQ(p->rela_object, p->owner == "vmlinux" ? "vmlinux" : "tmod") << name;
  // vmlinux exports stay ordinary relocations; the namespaced one is imported, not o-mod's O_NS.
  EXPECT_EQ(plan->kept_exports, (std::vector<std::string>{"vm_exported", "vm_ns_exported"}));
  EXPECT_EQ(plan->imported_namespaces, std::set<std::string>{"VM_NS"});

  std::vector<elf::Object> prepared{*obj};
  auto ko = link(dir_, prepared, "xmod");
  ASSERT_TRUE(ko.ok()) << ko.error().message();
  auto moved = finalize_module(*ko, "xmod.ko", {*plan});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 6u);
  std::string out = (dir_ / "xmod_final.ko").string();
  ASSERT_TRUE(elf::write_object_file(*ko, out).ok());
  auto fin = elf::read_object_file(out);
  ASSERT_TRUE(fin.ok()) << fin.error().message();

  // Module symbols, o-mod's included, sit in tmod's section; vmlinux's in vmlinux's. No section
  // is named after o-mod: the kernel applies only the sections of the patch's klp_objects.
  EXPECT_EQ(section_names(*fin, ".klp.rela."),
            (std::set<std::string>{".klp.rela.tmod..text.tmod_fn", ".klp.rela.vmlinux..text.tmod_fn"}));
  size_t ks = fin->find_section(".klp.rela.tmod..text.tmod_fn");
  ASSERT_NE(ks, 0u);
  EXPECT_EQ(fin->sections[ks].sh_flags, elf::SHF_ALLOC | elf::SHF_INFO_LINK | elf::SHF_RELA_LIVEPATCH);
  EXPECT_EQ(fin->sections[fin->sections[ks].sh_info].name, ".text.tmod_fn");
  auto mine = relas_by_symbol(*fin, ".klp.rela.tmod..text.tmod_fn");
  std::map<std::string, std::string> expect = {{".klp.sym.o_mod.o_reserve,0", "o_reserve"},
                                               {".klp.sym.o_mod.o_commit,2", "o_commit"},
                                               {".klp.sym.o_mod.o_debug,0", "o_debug"},
                                               {".klp.sym.o_mod.o_table,0", "o_table"},
                                               {".klp.sym.tmod.t_exported,0", "t_exported"}};
  EXPECT_EQ(mine.size(), expect.size());
  for (const auto& [klp_name, orig] : expect) {
    ASSERT_TRUE(mine.count(klp_name)) << klp_name;
    EXPECT_EQ(mine[klp_name].r_offset, before[orig].r_offset) << klp_name;
    EXPECT_EQ(mine[klp_name].r_type, before[orig].r_type) << klp_name;
    EXPECT_EQ(mine[klp_name].r_addend, before[orig].r_addend) << klp_name;
  }
  auto kernel = relas_by_symbol(*fin, ".klp.rela.vmlinux..text.tmod_fn");
  ASSERT_EQ(kernel.size(), 1u);
  EXPECT_EQ(kernel[".klp.sym.vmlinux.vm_hidden,0"].r_offset, before["vm_hidden"].r_offset);
  // Only the vmlinux exports are left for the loader: nothing that would make modpost add a
  // dependency.
  auto normal = relas_by_symbol(*fin, ".rela.text.tmod_fn");
  std::set<std::string> ordinary;
  for (const auto& [name, r] : normal) ordinary.insert(name);
  EXPECT_EQ(ordinary, (std::set<std::string>{"vm_exported", "vm_ns_exported"}));
  for (const auto& s : fin->symbols) {
    if (!s.name.starts_with(".klp.sym.")) continue;
    EXPECT_EQ(s.st_shndx, elf::SHN_LIVEPATCH) << s.name;
    EXPECT_EQ(s.bind(), elf::STB_GLOBAL) << s.name;
  }
  EXPECT_EQ(fin->symbols[fin->find_symbol(".klp.sym.o_mod.o_reserve,0")].type(), elf::STT_FUNC);
  EXPECT_EQ(fin->symbols[fin->find_symbol(".klp.sym.o_mod.o_debug,0")].type(), elf::STT_OBJECT);
  auto re = run_shell("readelf -SsrW " + shell_quote(out), "readelf");
  ASSERT_TRUE(re.ok()) << re.error().message();
  EXPECT_EQ(re->find("readelf: Warning"), std::string::npos) << *re;
}

TEST_F(CrossModule, VmlinuxNamespacedExportIsImportedByTheStub) {
  ConvertPlan plan;
  plan.target = "tmod";
  plan.functions = {{"tmod_fn", 0, "__noreboot_new_0_0"}};
  plan.imported_namespaces = {"VM_NS", "CXL"};
  ConvertPlan other{"vmlinux", {}, {{"f", 0, "__noreboot_new_1_0"}}, {}, {"VM_NS"}, {}};
  auto c = generate_stub_source("", {plan, other});
  EXPECT_NE(c.find("MODULE_INFO(import_ns, \"VM_NS\");\n"), std::string::npos) << c;
  EXPECT_NE(c.find("MODULE_INFO(import_ns, \"CXL\");\n"), std::string::npos) << c;
  EXPECT_EQ(c.find("import_ns, \"VM_NS\"", c.find("import_ns, \"VM_NS\"") + 1), std::string::npos)
      << "each namespace once: " << c;
  EXPECT_EQ(generate_stub_source("", {other}).find("O_NS"), std::string::npos);
}

TEST_F(CrossModule, ModuleExportInJumpTableIsRefused) {
  // Exported or not, a module's symbol is a .klp.rela.tmod relocation, applied when tmod
  // loads: far too late for the livepatch module's own __jump_table.
  auto obj = read("jump/tmod_fn.o");
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "tmod";
  in.functions = {{"tmod_fn", ""}};
  auto plan = prepare_patch_object(*obj, "jump/tmod_fn.o", in, tmod_sources(), 0);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  const std::string& m = plan.error().message();
  EXPECT_NE(m.find("'o_debug' (a symbol of module o_mod) is referenced from __jump_table"), std::string::npos) << m;
}

TEST_F(CrossModule, RefusesModuleSymbolsTheTargetCannotReach) {
  // u_fn's module is not among tmod's dependencies: it may be absent when tmod loads.
  auto obj = read("other/uses_umod.o");
  ASSERT_TRUE(obj.ok());
  PatchObjectInput in;
  in.target = "tmod";
  auto plan = prepare_patch_object(*obj, "other/uses_umod.o", in, tmod_sources(), 0);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  EXPECT_NE(plan.error().message().find("'u_fn' is exported by module umod, which tmod does not depend on "
                                        "(tmod depends on: o_mod)"),
            std::string::npos)
      << plan.error().message();
  // A fix in vmlinux may not use any module's symbol: it is resolved while the livepatch loads.
  obj = read("patch/tmod_fn.o");
  ASSERT_TRUE(obj.ok());
  in.target = "vmlinux";
  auto vm = prepare_patch_object(*obj, "patch/tmod_fn.o", in, SymbolSources{&vmlinux_, nullptr, &exports_}, 0);
  ASSERT_FALSE(vm.ok());
  EXPECT_NE(vm.error().message().find("'o_reserve' is exported by module o_mod, but this object patches vmlinux"),
            std::string::npos)
      << vm.error().message();
  EXPECT_NE(vm.error().message().find("'t_exported' is exported by module tmod"), std::string::npos);
}

TEST_F(CrossModule, ObjectsOfOneFixShareANewFunctionThroughTheModuleLink) {
  auto a = read("share/a.o");
  auto b = read("share/b.o");
  ASSERT_TRUE(a.ok() && b.ok());
  PatchObjectInput in_a, in_b;
  in_a.target = "vmlinux";
  in_b.target = "tmod";
  in_b.functions = {{"tmod_fn", ""}};
  // Without the other object, the kernel has no nr_new_helper: refused.
  auto alone = prepare_patch_object(*b, "share/b.o", in_b, tmod_sources(), 1);
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.error().message().find("nr_new_helper"), std::string::npos) << alone.error().message();

  b = read("share/b.o");
  SharedDefinitions shared;
  ASSERT_TRUE(add_shared_definitions(*a, "share/a.o", "vmlinux", shared).ok());
  ASSERT_TRUE(add_shared_definitions(*b, "share/b.o", "tmod", shared).ok());
  ASSERT_TRUE(shared.count("nr_new_helper") && shared.count("nr_new_var"));
  EXPECT_EQ(shared.at("nr_new_helper").target, "vmlinux");
  SymbolSources src_a{&vmlinux_, nullptr, &exports_};
  src_a.shared = &shared;
  SymbolSources src_b = tmod_sources();
  src_b.shared = &shared;
  auto plan_a = prepare_patch_object(*a, "share/a.o", in_a, src_a, 0);
  auto plan_b = prepare_patch_object(*b, "share/b.o", in_b, src_b, 1);
  ASSERT_TRUE(plan_a.ok()) << plan_a.error().message();
  ASSERT_TRUE(plan_b.ok()) << plan_b.error().message();
  EXPECT_TRUE(plan_b->symbols.empty());
  EXPECT_EQ(plan_b->linked_inside, (std::vector<std::string>{"nr_new_helper", "nr_new_var"}));

  auto ko = link(dir_, {*a, *b}, "shared");
  ASSERT_TRUE(ko.ok()) << ko.error().message();
  auto moved = finalize_module(*ko, "shared.ko", {*plan_a, *plan_b});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 0u);
  EXPECT_TRUE(section_names(*ko, ".klp.rela.").empty());
  // The call and the load now point at the definitions inside the module.
  auto normal = relas_by_symbol(*ko, ".rela.text.tmod_fn");
  ASSERT_TRUE(normal.count("nr_new_helper") && normal.count("nr_new_var"));
  for (const char* n : {"nr_new_helper", "nr_new_var"}) {
    const auto& sym = ko->symbols[ko->find_symbol(n)];
    EXPECT_TRUE(sym.is_defined_in_section()) << n;
  }
  for (const auto& s : ko->symbols) EXPECT_FALSE(s.name.starts_with(".klp.sym.")) << s.name;
}

TEST_F(CrossModule, SharingIsRefusedWhereTheDefinitionMayBeUnrelocated) {
  // A tmod object defines it, a vmlinux object uses it: that code can run before tmod loads,
  // when the definer's .klp.rela.tmod relocations are not applied yet.
  auto a = read("share/a.o");
  auto b = read("share/b.o");
  ASSERT_TRUE(a.ok() && b.ok());
  SharedDefinitions shared;
  ASSERT_TRUE(add_shared_definitions(*a, "share/a.o", "tmod", shared).ok());
  PatchObjectInput in;
  in.target = "vmlinux";
  SymbolSources src{&vmlinux_, nullptr, &exports_};
  src.shared = &shared;
  auto plan = prepare_patch_object(*b, "share/b.o", in, src, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("'nr_new_helper' is defined by the patch object share/a.o for tmod"),
            std::string::npos)
      << plan.error().message();
  // Two strong definitions of one name cannot be linked into one module.
  auto dup = read("share/dup.o");
  ASSERT_TRUE(dup.ok());
  auto twice = add_shared_definitions(*dup, "share/dup.o", "vmlinux", shared);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message().find("share/dup.o and share/a.o both define 'nr_new_helper'"),
            std::string::npos)
      << twice.error().message();
}

TEST_F(CrossModule, DependsCheckRefusesAModuleWithADependency) {
  auto dep = check_loads_everywhere((dir_ / "modinfo/dep.o").string());
  ASSERT_FALSE(dep.ok());
  EXPECT_EQ(dep.error().code(), Errc::internal);
  EXPECT_NE(dep.error().message().find("depends on sunrpc,lockd"), std::string::npos) << dep.error().message();
  EXPECT_TRUE(check_loads_everywhere((dir_ / "modinfo/nodep.o").string()).ok());
  EXPECT_FALSE(check_loads_everywhere((dir_ / "patch/first.o").string()).ok());  // no .modinfo at all
}

// The cached kernel (NR_ABI, default the newest unpacked ABI in the cache). These tests carry
// the label `kernel` and fail without it (core/test_kernel_cache.h).
KernelFiles cached_kernel() {
  std::string abi = noreboot::testing::cached_kernel_abi("root.done");
  return kernel_files_for(abi.empty() ? "none-in-cache" : abi);
}

TEST(RealKernelModules, NfsdFixCallsSunrpcThroughLivepatchSymbols) {
  KernelFiles k = cached_kernel();
  if (!fs::exists(k.headers + "/Module.symvers") || !fs::exists(k.moddir + "/kernel"))
    FAIL() << noreboot::testing::no_cached_kernel("root.done, its headers and modules");
  auto exports = ExportTable::load(k.headers + "/Module.symvers");
  ASSERT_TRUE(exports.ok()) << exports.error().message();
  ASSERT_NE(exports->find("svc_reserve"), nullptr);
  EXPECT_EQ(exports->find("svc_reserve")->owner(), "sunrpc");
  EXPECT_EQ(exports->find("usb_stor_control_msg")->owner(), "usb_storage");
  EXPECT_EQ(exports->find("usb_stor_control_msg")->ns, "USB_STORAGE");
  auto deps = module_dependencies(k, "nfsd");
  ASSERT_TRUE(deps.ok()) << deps.error().message();
  EXPECT_TRUE(deps->count("sunrpc") && deps->count("lockd") && deps->count("grace")) << deps->size();
  auto realtek = module_dependencies(k, "ums-realtek");
  ASSERT_TRUE(realtek.ok()) << realtek.error().message();
  EXPECT_TRUE(realtek->count("usb_storage") && realtek->count("usbcore"));

  // A stand-in for the differ's output of a fix to nfsd4_sequence (no kernel headers needed).
  fs::path dir = fs::temp_directory_path() / ("klp_xmod_real_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write(dir / "nfs4state.c",
        "struct svc_rqst; struct xdr_stream;\n"
        "extern void svc_reserve(struct svc_rqst *, int);\n"
        "extern void xdr_restrict_buflen(struct xdr_stream *, int);\n"
        "extern void __xdr_commit_encode(struct xdr_stream *);\n"
        "extern unsigned int nfsd_debug;\n"
        "__attribute__((noinline)) unsigned int nfsd4_sequence(struct svc_rqst *r, struct xdr_stream *x)\n"
        "{ svc_reserve(r, 1); xdr_restrict_buflen(x, 2); __xdr_commit_encode(x); return nfsd_debug; }\n");
  write(dir / "realtek_cr.c",
        "struct us_data;\n"
        "extern int usb_stor_control_msg(struct us_data *, unsigned int, unsigned char, unsigned char,\n"
        "                                unsigned short, unsigned short, void *, unsigned short, int);\n"
        "static __attribute__((used, noinline)) int rts51x_invoke_transport(struct us_data *us)\n"
        "{ return usb_stor_control_msg(us, 0, 0, 0, 0, 0, 0, 0, 0); }\n");
  auto r = run_shell("cd " + shell_quote(dir.string()) +
                         " && for f in nfs4state realtek_cr; do gcc -O2 -ffunction-sections -fno-pic"
                         " -mcmodel=kernel -c $f.c || exit 1; done",
                     "compile");
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::map<std::string, SymbolIndex> modules;
  auto lookup = [&](const std::string& name) -> Result<const SymbolIndex*> {
    if (!modules.count(name)) {
      NR_TRY(auto mi, module_index(k, name));
      modules.emplace(name, std::move(mi));
    }
    return &modules.at(name);
  };
  SymbolIndex no_vmlinux;  // vmlinux is not needed: every reference is a module's
  struct Case {
    std::string object, target, function;
    std::set<std::string> klp;
  };
  for (const Case& c : {Case{"nfs4state.o", "nfsd", "nfsd4_sequence",
                             {".klp.sym.sunrpc.svc_reserve,0", ".klp.sym.sunrpc.xdr_restrict_buflen,0",
                              ".klp.sym.sunrpc.__xdr_commit_encode,0", ".klp.sym.sunrpc.nfsd_debug,0"}},
                        Case{"realtek_cr.o", "ums-realtek", "rts51x_invoke_transport",
                             {".klp.sym.usb_storage.usb_stor_control_msg,0"}}}) {
    auto obj = elf::read_object_file((dir / c.object).string());
    ASSERT_TRUE(obj.ok()) << obj.error().message();
    auto target = lookup(kernel_module_name(c.target));
    ASSERT_TRUE(target.ok()) << target.error().message();
    auto d = module_dependencies(k, c.target);
    ASSERT_TRUE(d.ok()) << d.error().message();
    SymbolSources src{&no_vmlinux, *target, &*exports, lookup, *d};
    PatchObjectInput in;
    in.target = c.target;
    in.functions = {{c.function, ""}};
    auto plan = prepare_patch_object(*obj, c.object, in, src, 0);
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    EXPECT_EQ(plan->target, kernel_module_name(c.target));
    std::set<std::string> klp;
    for (const auto& s : plan->symbols) {
      klp.insert(s.klp_name);
      EXPECT_EQ(s.rela_object, plan->target) << s.klp_name;
    }
    EXPECT_EQ(klp, c.klp) << c.object;
    EXPECT_TRUE(plan->kept_exports.empty());
    auto moved = finalize_module(*obj, c.object, {*plan});
    ASSERT_TRUE(moved.ok()) << moved.error().message();
    EXPECT_NE(obj->find_section(".klp.rela." + plan->target + "..text." + c.function), 0u) << c.object;
  }
  fs::remove_all(dir);
}

TEST(RealKernelModules, ModpostTakesTheStubsImportAndTheCheckSeesDepends) {
  // The real modpost on the cached headers, with the stub generate_stub_source writes. Its
  // plan imports DMA_BUF (dma_buf_put is a vmlinux export in that namespace: without the
  // import modpost fails with "uses symbol dma_buf_put from namespace DMA_BUF, but does not
  // import it"). The part also calls sunrpc's svc_reserve with an ordinary relocation, which
  // the conversion never leaves: modpost then writes depends=sunrpc, and the check refuses it.
  KernelFiles k = cached_kernel();
  ASSERT_TRUE(fs::exists(k.headers + "/Module.symvers")) << noreboot::testing::no_cached_kernel("kernel headers");
  auto exports = ExportTable::load(k.headers + "/Module.symvers");
  ASSERT_TRUE(exports.ok());
  const ExportedSymbol* put = exports->find("dma_buf_put");
  ASSERT_TRUE(put && put->owner() == "vmlinux" && put->ns == "DMA_BUF");
  fs::path dir = fs::temp_directory_path() / ("klp_xmod_modpost_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ConvertPlan plan;
  plan.target = "nfsd";
  plan.functions = {{"nfsd4_sequence", 0, "__noreboot_new_0_0"}};
  plan.imported_namespaces = {"DMA_BUF"};
  write(dir / "noreboot_stub.c", generate_stub_source("modpost test", {plan}));
  write(dir / "part.c",
        "void dma_buf_put(void *);\nvoid svc_reserve(void *, int);\n"
        "void __noreboot_new_0_0(void);\n"
        "void __noreboot_new_0_0(void) { dma_buf_put((void *)0); svc_reserve((void *)0, 0); }\n");
  write(dir / "Kbuild", "obj-m := nr_modpost.o\nnr_modpost-y := noreboot_stub.o part.o\n");
  auto made = run_shell("make -s -C " + shell_quote(k.headers) + " M=" + shell_quote(dir.string()) +
                            " CC=gcc-12 modules 2>&1",
                        "Kbuild");
  ASSERT_TRUE(made.ok()) << made.error().message();
  std::string ko = (dir / "nr_modpost.ko").string();
  auto bytes = read_file(ko, 64 << 20);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  auto import_ns = module_info_value(*bytes, "import_ns");
  ASSERT_TRUE(import_ns.ok()) << import_ns.error().message();
  EXPECT_EQ(*import_ns, "DMA_BUF");
  auto loads = check_loads_everywhere(ko);
  ASSERT_FALSE(loads.ok());
  EXPECT_EQ(loads.error().code(), Errc::internal);
  EXPECT_NE(loads.error().message().find("depends on sunrpc"), std::string::npos) << loads.error().message();
  fs::remove_all(dir);
}

TEST(RealKernelModules, WholeModuleThroughModpostHasNoDependencies) {
  // Needs the vmlinux index (scripts/kernel-fetch --dbg, then noreboot-klp index).
  KernelFiles k = cached_kernel();
  if (!fs::exists(vmlinux_index_path(k)) || !fs::exists(k.headers + "/Module.symvers"))
    FAIL() << noreboot::testing::no_cached_kernel("symbols/vmlinux.idx and kernel headers");
  auto exports = ExportTable::load(k.headers + "/Module.symvers");
  ASSERT_TRUE(exports.ok());
  // A vmlinux export in a namespace, for modpost's import check.
  std::string ns_export;
  for (const char* cand : {"dma_buf_put", "dma_buf_get", "efivar_lock"})
    if (auto* e = exports->find(cand); e && e->owner() == "vmlinux" && !e->ns.empty()) {
      ns_export = cand;
      break;
    }
  ASSERT_FALSE(ns_export.empty()) << "no namespaced vmlinux export among the candidates";
  fs::path dir = fs::temp_directory_path() / ("klp_xmod_ko_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write(dir / "nfs4state.c",
        "struct svc_rqst;\n"
        "extern void svc_reserve(struct svc_rqst *, int);\n"
        "extern unsigned int nfsd_debug;\n"
        "extern void " + ns_export + "(void *);\n"
        "__attribute__((noinline)) unsigned int nfsd4_sequence(struct svc_rqst *r)\n"
        "{ svc_reserve(r, 1); " + ns_export + "(r); return nfsd_debug; }\n");
  auto r = run_shell("cd " + shell_quote(dir.string()) +
                         " && gcc-12 -O2 -ffunction-sections -fno-pic -mcmodel=kernel -mno-red-zone -c nfs4state.c",
                     "compile");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ModuleRequest req;
  req.module_name = "nr_xmod_test";
  req.kernel = k;
  req.workdir = (dir / "work").string();
  req.output = (dir / "nr_xmod_test.ko").string();
  PatchObject po;
  po.path = (dir / "nfs4state.o").string();
  po.input.target = "nfsd";
  po.input.functions = {{"nfsd4_sequence", ""}};
  req.objects.push_back(po);
  auto built = build_livepatch_module(req);
  ASSERT_TRUE(built.ok()) << built.error().message();
  auto bytes = read_file(req.output, 64 << 20);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  auto depends = module_info_value(*bytes, "depends");
  ASSERT_TRUE(depends.ok()) << depends.error().message();
  EXPECT_EQ(*depends, "");
  auto import_ns = module_info_value(*bytes, "import_ns");
  ASSERT_TRUE(import_ns.ok()) << import_ns.error().message();
  EXPECT_EQ(*import_ns, exports->find(ns_export)->ns);
  auto sections = run_shell("readelf -SW " + shell_quote(req.output), "readelf");
  ASSERT_TRUE(sections.ok()) << sections.error().message();
  EXPECT_NE(sections->find(".klp.rela.nfsd..text.nfsd4_sequence"), std::string::npos) << *sections;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace noreboot::klp
