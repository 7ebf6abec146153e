// The builder's step timer, and run_build as a list of passes that stops where a pass decides
// the outcome. No kernel is needed: the fixes here end before anything is compiled (refused by
// the units pass, no kernel C touched, already fixed in a tiny fake tree).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "builder/build.h"
#include "builder/steps.h"

namespace noreboot::builder {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> names(const StepClock& clock) {
  std::vector<std::string> out;
  for (const auto& s : clock.steps()) out.push_back(s.name);
  return out;
}

TEST(StepTimer, NestedStepsAreListedUnderTheirPassAndCountedOnce) {
  StepClock clock;
  {
    StepTimer pass(clock, "prepare");
    {
      StepTimer a(clock, "fetch", "kernel packages");
      usleep(20000);
    }
    StepTimer b(clock, "prepare:untar");
    usleep(20000);
  }
  { StepTimer next(clock, "stage"); }
  ASSERT_EQ(names(clock), (std::vector<std::string>{"prepare", "fetch", "prepare:untar", "stage"}));
  const auto& s = clock.steps();
  EXPECT_EQ(s[0].depth, 0);
  EXPECT_EQ(s[1].depth, 1);
  EXPECT_EQ(s[2].depth, 1);
  EXPECT_EQ(s[3].depth, 0);
  EXPECT_GE(s[0].seconds, s[1].seconds + s[2].seconds);
  EXPECT_GT(s[1].seconds, 0);
  EXPECT_DOUBLE_EQ(clock.total(), s[0].seconds + s[3].seconds);  // sub-steps are inside their pass
  std::string summary = clock.summary();
  EXPECT_NE(summary.find("\n    fetch "), std::string::npos) << summary;
  EXPECT_EQ(summary.rfind("  prepare ", 0), 0u) << summary;
  EXPECT_NE(summary.find("\n  stage "), std::string::npos) << summary;
  EXPECT_NE(summary.find("\n  total "), std::string::npos) << summary;
}

// A step left by an early return (an Error) is closed and listed all the same.
Status fails_inside(StepClock& clock) {
  StepTimer t(clock, "kbuild", "first compile");
  if (!t.name().empty()) return Error(Errc::io, "make failed");
  return ok_status();
}

TEST(StepTimer, AStepLeftByAnErrorIsClosed) {
  StepClock clock;
  {
    StepTimer pass(clock, "record");
    EXPECT_FALSE(fails_inside(clock).ok());
    StepTimer after(clock, "other");
  }
  ASSERT_EQ(names(clock), (std::vector<std::string>{"record", "kbuild", "other"}));
  EXPECT_EQ(clock.steps()[1].depth, 1);
  EXPECT_EQ(clock.steps()[2].depth, 1);  // opened inside "record" after kbuild was closed
}

class RunBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/nr-passes-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // A configured tree as --tree accepts it (nothing here is compiled).
  fs::path fake_tree() {
    write("tree/.config", "CONFIG_X=y\n");
    write("tree/include/config/kernel.release", "6.1.0-test\n");
    write("tree/lib/fixed.c", "int answer(void)\n{\n\treturn 42;\n}\n");
    return dir_ / "tree";
  }
  BuildConfig config(const fs::path& patch) {
    BuildConfig c;
    c.patch = patch;
    c.output = dir_ / "out.nrp";
    c.keep_work = dir_ / "work";
    return c;
  }
  fs::path dir_;
};

TEST_F(RunBuild, ARefusedFileStopsAfterTheUnitsPass) {
  auto patch = write("asm.patch",
                     "--- a/arch/x86/lib/memmove_64.S\n+++ b/arch/x86/lib/memmove_64.S\n@@ -1,2 +1,3 @@\n"
                     " SYM_FUNC_START(__memmove)\n+\tnop\n \tmov %rdi, %rax\n");
  auto r = run_build(config(patch));  // no --kernel: the prepare pass would fail if it ran
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->outcome, Outcome::refused);
  ASSERT_FALSE(r->refusals.empty());
  EXPECT_EQ(names(r->clock), (std::vector<std::string>{"fix", "units"}));
  EXPECT_FALSE(fs::exists(dir_ / "work"));
}

TEST_F(RunBuild, NoKernelCodeStopsAfterTheWorkPass) {
  auto patch = write("doc.patch", "--- a/Documentation/x.rst\n+++ b/Documentation/x.rst\n@@ -1 +1 @@\n-a\n+b\n");
  BuildConfig c = config(patch);
  c.tree = fake_tree();
  auto r = run_build(c);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->outcome, Outcome::no_change);
  EXPECT_EQ(r->abi, "6.1.0-test");
  EXPECT_EQ(names(r->clock), (std::vector<std::string>{"fix", "units", "prepare", "work"}));
}

TEST_F(RunBuild, AnAlreadyFixedSourceStopsAfterTheStagePass) {
  auto patch = write("fixed.patch",
                     "--- a/lib/fixed.c\n+++ b/lib/fixed.c\n@@ -1,4 +1,4 @@\n int answer(void)\n {\n"
                     "-\treturn 41;\n+\treturn 42;\n }\n");
  BuildConfig c = config(patch);
  c.tree = fake_tree();
  auto r = run_build(c);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->outcome, Outcome::already_fixed);
  EXPECT_EQ(r->work, fs::absolute(dir_ / "work"));
  // No --on-top-of, no header: the baseline and headers passes are not run.
  EXPECT_EQ(names(r->clock), (std::vector<std::string>{"fix", "units", "prepare", "work", "stage"}));
}

TEST_F(RunBuild, AnErrorInAPassEndsTheBuild) {
  auto patch = write("fixed.patch", "--- a/lib/fixed.c\n+++ b/lib/fixed.c\n@@ -1 +1 @@\n-a\n+b\n");
  auto r = run_build(config(patch));  // neither --kernel nor --tree
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no target kernel"), std::string::npos) << r.error().message();
  EXPECT_FALSE(fs::exists(dir_ / "work"));

  auto latin1 = write("latin1.patch", "--- a/lib/fixed.c\n+++ b/lib/fixed.c\n@@ -1 +1 @@\n-a\n+\xe9\n");
  auto bad = run_build(config(latin1));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("not UTF-8"), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace noreboot::builder
