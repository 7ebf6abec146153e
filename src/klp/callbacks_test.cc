// Callbacks declared with <noreboot/livepatch.h> (the real header, with a stand-in
// <linux/livepatch.h>), compiled here, found in the object, and wired into the stub.
#include "klp/callbacks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "elf/object.h"
#include "klp/module_gen.h"
#include "klp/process.h"
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
    write(dir_ / "linux/livepatch.h", "struct klp_object;\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Compiles SOURCE as the builder compiles a patched copy (the header found with -idirafter).
  elf::Object compile(const std::string& name, const std::string& source) {
    write(dir_ / (name + ".c"), "#include <noreboot/livepatch.h>\n" + source);
    auto r = run_shell("cd " + shell_quote(dir_.string()) + " && gcc -O2 -ffunction-sections -I. -idirafter " +
                           shell_quote(std::string(NOREBOOT_SOURCE_DIR) + "/src/build/include") + " -c " + name + ".c",
                       "compile");
    EXPECT_TRUE(r.ok()) << r.error().message();
    auto o = elf::read_object_file((dir_ / (name + ".o")).string());
    EXPECT_TRUE(o.ok()) << o.error().message();
    return o.ok() ? std::move(*o) : elf::Object{};
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
