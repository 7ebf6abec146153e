// Callbacks declared with <noreboot/livepatch.h> (the real header, with a stand-in
// <linux/livepatch.h>), compiled here, found in the object, and wired into the stub.
#include "klp/callbacks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/result.h"
#include "elf/object.h"
#include "klp/module_gen.h"
#include "core/process.h"
#include "klp/test_files.h"

namespace noreboot::klp {
namespace {
namespace fs = std::filesystem;

using testing_files::write;

class Callbacks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("klp_callbacks_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    write(dir_ / "linux/livepatch.h",
          "struct klp_object;\n"
          "void *klp_shadow_alloc(void *, unsigned long, size_t, gfp_t, void *, void *);\n"
          "void *klp_shadow_get(void *, unsigned long);\n"
          "void klp_shadow_free(void *, unsigned long, void *);\n");
    write(dir_ / "linux/types.h", "#include <stddef.h>\n");
    write(dir_ / "linux/gfp.h", "typedef unsigned gfp_t;\n#define GFP_KERNEL 0u\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Compiles SOURCE as the builder compiles a patched copy (the header found with -idirafter).
  elf::Object compile(const std::string& name, const std::string& source,
                      const std::string& header = "#include <linux/types.h>\n#include <linux/gfp.h>\n"
                                                  "#include <noreboot/livepatch.h>\n") {
    auto r = try_compile(name, header + source);
    EXPECT_TRUE(r.ok()) << r.error().message();
    auto o = elf::read_object_file((dir_ / (name + ".o")).string());
    EXPECT_TRUE(o.ok()) << o.error().message();
    return o.ok() ? std::move(*o) : elf::Object{};
  }

  Result<std::string> try_compile(const std::string& name, const std::string& source) {
    write(dir_ / (name + ".c"), source);
    return run_shell("cd " + shell_quote(dir_.string()) + " && gcc -O2 -ffunction-sections -I. -idirafter " +
                         shell_quote(std::string(NOREBOOT_SOURCE_DIR) + "/src/builder/include") + " -c " + name +
                         ".c 2>&1",
                     "compile");
  }

  fs::path dir_;
};

TEST_F(Callbacks, TheMacrosDeclareCallbacksTheBuilderFinds) {
  auto o = compile("fix", "static int check(struct klp_object *obj) { return obj == 0; }\n"
                          "static void repair(struct klp_object *obj) { (void)obj; }\n"
                          "NOREBOOT_PRE_PATCH_CALLBACK(binfmt_misc, check);\n"
                          "NOREBOOT_POST_PATCH_CALLBACK(vmlinux, repair);\n"
                          "NOREBOOT_POST_UNPATCH_CALLBACK(vmlinux, repair);\n");
  auto found = find_callbacks(o, "vmlinux", "fix.o");
  ASSERT_TRUE(found.ok()) << found.error().message();
  ASSERT_EQ(found->size(), 3u);
  std::map<std::string, const Callback*> by_symbol;
  for (const auto& cb : *found) by_symbol[cb.symbol] = &cb;
  ASSERT_TRUE(by_symbol.count("__noreboot_cb_pre_patch__binfmt_misc"));
  EXPECT_EQ(by_symbol["__noreboot_cb_pre_patch__binfmt_misc"]->object, "binfmt_misc");
  EXPECT_EQ(by_symbol["__noreboot_cb_pre_patch__binfmt_misc"]->kind, CallbackKind::pre_patch);
  ASSERT_TRUE(by_symbol.count("__noreboot_cb_post_unpatch__vmlinux"));
  EXPECT_EQ(by_symbol["__noreboot_cb_post_unpatch__vmlinux"]->kind, CallbackKind::post_unpatch);
  EXPECT_TRUE(check_unique_callbacks(*found).ok());

  // Wired into the stub: an object with callbacks only gets an empty function list.
  std::string c = generate_stub_source("", {}, *found);
  EXPECT_NE(c.find("extern int __noreboot_cb_pre_patch__binfmt_misc(struct klp_object *obj);"), std::string::npos) << c;
  EXPECT_NE(c.find("{ .name = \"binfmt_misc\", .funcs = noreboot_funcs_0,\n\t  .callbacks = { .pre_patch = "
                   "__noreboot_cb_pre_patch__binfmt_misc, } },"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find(".callbacks = { .post_patch = __noreboot_cb_post_patch__vmlinux, .post_unpatch = "
                   "__noreboot_cb_post_unpatch__vmlinux, }"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("static struct klp_func noreboot_funcs_0[] = {\n\t{ }\n};"), std::string::npos) << c;
}

TEST_F(Callbacks, ACallbackForAnotherModuleOutsideVmlinuxIsRefused) {
  auto o = compile("mod", "static void repair(struct klp_object *obj) { (void)obj; }\n"
                          "NOREBOOT_POST_PATCH_CALLBACK(ext4, repair);\n"
                          "NOREBOOT_PRE_UNPATCH_CALLBACK(binfmt_misc, repair);\n");
  auto found = find_callbacks(o, "binfmt_misc", "mod.o");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code(), Errc::unsupported);
  EXPECT_NE(found.error().message().find("__noreboot_cb_post_patch__ext4: a callback for object ext4 declared in a "
                                         "unit of binfmt_misc"),
            std::string::npos)
      << found.error().message();
  EXPECT_EQ(found.error().message().find("binfmt_misc: a callback"), std::string::npos);
}

TEST_F(Callbacks, KpatchMacrosDeclareCallbacksOfTheFilesOwnObject) {
  auto o = compile("kp", "static int check(patch_object *obj) { return obj == 0; }\n"
                         "KPATCH_PRE_PATCH_CALLBACK(check);\n"
                         "static void done(patch_object *obj) { kpatch_shadow_free(obj, \"count\"); }\n"
                         "KPATCH_POST_UNPATCH_CALLBACK(done);\n"
                         "int *counter(void *o);\n"
                         "int *counter(void *o) { int *c = kpatch_shadow_get(o, \"count\");\n"
                         "  return c ? c : kpatch_shadow_alloc(o, \"count\", sizeof(int), GFP_KERNEL); }\n",
                   "#include \"kpatch-macros.h\"\n");
  auto found = find_callbacks(o, "ext4", "kp.o");
  ASSERT_TRUE(found.ok()) << found.error().message();
  ASSERT_EQ(found->size(), 2u);
  for (const auto& cb : *found) EXPECT_EQ(cb.object, "ext4") << cb.symbol;
  // Two files of one patch may both use the macros: the functions are file-static.
  auto again = compile("kp2", "static void other(patch_object *obj) { }\nKPATCH_POST_PATCH_CALLBACK(other);\n",
                       "#include <kpatch-macros.h>\n");
  auto second = find_callbacks(again, "vmlinux", "kp2.o");
  ASSERT_TRUE(second.ok()) << second.error().message();
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().object, "vmlinux");
  EXPECT_EQ(second->front().symbol, "__noreboot_cb_post_patch__this_object");
}

TEST_F(Callbacks, KpatchMacrosWithoutALivepatchEquivalentStopTheCompileNamingTheMacro) {
  auto r = try_compile("unsafe", "#include \"kpatch-macros.h\"\nint f(void);\nKPATCH_FORCE_UNSAFE(f);\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("KPATCH_FORCE_UNSAFE(f) has no equivalent in the kernel livepatch"),
            std::string::npos)
      << r.error().message();
  // The ignore markers compile: the differ honours them (src/diff/ignore_markers.h).
  r = try_compile("ignore", "#include \"kpatch-macros.h\"\nint f(void);\nKPATCH_IGNORE_FUNCTION(f);\n"
                            "KPATCH_IGNORE_SECTION(\".data\");\nKPATCH_IGNORE_STATIC(\"counter\");\n");
  EXPECT_TRUE(r.ok()) << r.error().message();
}

TEST_F(Callbacks, UnknownKindsAndDuplicatesAreRefused) {
  auto o = compile("odd", "void __noreboot_cb_after_patch__vmlinux(void) { }\n");
  auto found = find_callbacks(o, "vmlinux", "odd.o");
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message().find("odd.o: __noreboot_cb_after_patch__vmlinux: not a callback noreboot knows"),
            std::string::npos)
      << found.error().message();

  std::vector<Callback> twice = {{"vmlinux", CallbackKind::post_patch, "__noreboot_cb_post_patch__vmlinux", "a.o"},
                                 {"vmlinux", CallbackKind::post_patch, "__noreboot_cb_post_patch__vmlinux", "b.o"}};
  auto unique = check_unique_callbacks(twice);
  ASSERT_FALSE(unique.ok());
  EXPECT_NE(unique.error().message().find("b.o and a.o both declare a post_patch callback for vmlinux"),
            std::string::npos)
      << unique.error().message();
}

}  // namespace
}  // namespace noreboot::klp
