// apply_fixes on real files with real patch(1): applies, already fixed, does not apply,
// earlier fixes first, never a half-applied copy; and the multi-kernel exit code.
#include "builder/fix_apply.h"

#include <gtest/gtest.h>

#include <fstream>

#include "builder/kernels.h"
#include "core/file_io.h"

namespace noreboot::builder {
namespace {
namespace fs = std::filesystem;

class FixApply : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("nr-fixapply-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "src/fs");
    write("src/fs/a.c", "int a(void)\n{\n\treturn 1;\n}\n\nint b(void)\n{\n\treturn 2;\n}\n");
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir / rel) << text; }
  FixFile fix(const std::string& name, const std::string& text) {
    write(name, text);
    auto p = parse_patch(text, name);
    EXPECT_TRUE(p.ok()) << p.error().message();
    return {dir / name, name, *p};
  }
  std::string read(const std::string& rel) { return read_text(dir / rel).value(); }
  fs::path dir;
};

const char* kFixA =
    "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 1;\n+\treturn 10;\n }\n";
const char* kFixB =
    "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -5,5 +5,5 @@\n \n int b(void)\n {\n-\treturn 2;\n+\treturn 20;\n }\n";
// Two hunks: the first already in the source (after fix A), the second not: partly applied.
const char* kHalf =
    "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 1;\n+\treturn 10;\n }\n"
    "@@ -5,5 +5,5 @@\n \n int b(void)\n {\n-\treturn 2;\n+\treturn 30;\n }\n";

TEST_F(FixApply, AppliesToACopyAndLeavesTheSourceAlone) {
  auto r = apply_fixes(dir / "src", dir / "out", {fix("a.patch", kFixA)}, "test kernel", dir / "log");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->fit, FixFit::applies);
  EXPECT_NE(read("out/fs/a.c").find("return 10;"), std::string::npos);
  EXPECT_NE(read("src/fs/a.c").find("return 1;"), std::string::npos);
}

TEST_F(FixApply, ASourceThatContainsTheFixIsAlreadyFixed) {
  write("src/fs/a.c", "int a(void)\n{\n\treturn 10;\n}\n\nint b(void)\n{\n\treturn 2;\n}\n");
  auto r = apply_fixes(dir / "src", dir / "out", {fix("a.patch", kFixA)}, "test kernel", dir / "log");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->fit, FixFit::already_fixed);
}

TEST_F(FixApply, DifferentCodeDoesNotApplyAndNothingIsHalfApplied) {
  write("src/fs/a.c", "int a(void)\n{\n\treturn 10;\n}\n\nint b(void)\n{\n\treturn 2;\n}\n");
  auto r = apply_fixes(dir / "src", dir / "out", {fix("half.patch", kHalf)}, "test kernel", dir / "log");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->fit, FixFit::does_not_apply);
  EXPECT_FALSE(r->detail.empty());
  EXPECT_NE(read("out/fs/a.c").find("return 2;"), std::string::npos) << "a hunk was applied";
  // A file the fix changes that this source lacks: does not apply, naming it.
  auto missing = apply_fixes(dir / "src", dir / "out2",
                             {fix("m.patch", "--- a/fs/z.c\n+++ b/fs/z.c\n@@ -1 +1 @@\n-x\n+y\n")}, "k", dir / "log");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->fit, FixFit::does_not_apply);
  EXPECT_NE(missing->detail.find("fs/z.c"), std::string::npos);
}

TEST_F(FixApply, EarlierFixesComeFirstAndMustApply) {
  auto r = apply_fixes(dir / "src", dir / "out", {fix("a.patch", kFixA), fix("b.patch", kFixB)}, "k", dir / "log");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->fit, FixFit::applies);
  std::string out = read("out/fs/a.c");
  EXPECT_NE(out.find("return 10;"), std::string::npos);
  EXPECT_NE(out.find("return 20;"), std::string::npos);
  // The new fix already in the source after the earlier one: already fixed.
  auto again = apply_fixes(dir / "src", dir / "out", {fix("a.patch", kFixA), fix("a2.patch", kFixA)}, "k", dir / "log");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->fit, FixFit::already_fixed);
  // An earlier fix that does not apply is an error naming it.
  write("src/fs/a.c", "int a(void)\n{\n\treturn 7;\n}\n");
  auto bad = apply_fixes(dir / "src", dir / "out", {fix("a.patch", kFixA), fix("b.patch", kFixB)}, "k", dir / "log");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("a.patch does not apply"), std::string::npos) << bad.error().message();
}

TEST(KernelsExitCode, BuiltAndAlreadyFixedAreSuccess) {
  auto rep = [](Outcome o, bool pattern = false, bool failed = false) {
    KernelReport r;
    r.outcome = o;
    r.failed = failed;
    r.target.from_pattern = pattern;
    return r;
  };
  EXPECT_EQ(kernels_exit_code({rep(Outcome::built), rep(Outcome::already_fixed)}), 0);
  EXPECT_EQ(kernels_exit_code({rep(Outcome::built), rep(Outcome::unavailable, true)}), 0);
  EXPECT_EQ(kernels_exit_code({rep(Outcome::built), rep(Outcome::unavailable, false)}), 1);
  EXPECT_EQ(kernels_exit_code({rep(Outcome::built), rep(Outcome::does_not_apply)}), 3);
  EXPECT_EQ(kernels_exit_code({rep(Outcome::refused), rep(Outcome::built, false, true)}), 1);
  std::string s = format_kernel_summary({rep(Outcome::already_fixed)});
  EXPECT_NE(s.find("already fixed"), std::string::npos);
}

}  // namespace
}  // namespace noreboot::builder
