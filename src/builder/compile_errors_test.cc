#include "builder/compile_errors.h"

#include <gtest/gtest.h>

namespace noreboot::builder {
namespace {

// gcc's stderr for a fix with an undeclared name, as the fast path sees it (copy root in the
// paths, a warning from a header first).
constexpr const char* kLog =
    "./include/linux/foo.h:3:1: warning: something harmless\n"
    "/tmp/noreboot-build.Ab12/src-patched/fs/proc/cmdline.c: In function 'cmdline_proc_show':\n"
    "/tmp/noreboot-build.Ab12/src-patched/fs/proc/cmdline.c:10:9: error: 'undeclared_thing' undeclared "
    "(first use in this function)\n"
    "   10 |         undeclared_thing = 1;\n"
    "      |         ^~~~~~~~~~~~~~~~\n";

TEST(CompilerExcerpt, StartsAtTheFirstErrorWithItsContextAndUsesThePatchsFileNames) {
  std::string e = compiler_excerpt(kLog, "/tmp/noreboot-build.Ab12/src-patched");
  EXPECT_EQ(e,
            "    fs/proc/cmdline.c: In function 'cmdline_proc_show':\n"
            "    fs/proc/cmdline.c:10:9: error: 'undeclared_thing' undeclared (first use in this function)\n"
            "       10 |         undeclared_thing = 1;\n"
            "          |         ^~~~~~~~~~~~~~~~\n");
  EXPECT_EQ(e.find("src-patched"), std::string::npos);
  EXPECT_EQ(e.find("warning"), std::string::npos);
}

TEST(CompilerExcerpt, KeepsAtMostMaxLinesAndSaysHowManyMore) {
  std::string log;
  for (int i = 0; i < 30; ++i) log += "x.c:" + std::to_string(i) + ":1: error: e" + std::to_string(i) + "\n";
  std::string e = compiler_excerpt(log, "/w/src-orig/", 20);
  EXPECT_NE(e.find("x.c:0:1: error: e0"), std::string::npos);
  EXPECT_NE(e.find("x.c:19:1: error: e19"), std::string::npos);
  EXPECT_EQ(e.find("x.c:20:1"), std::string::npos);
  EXPECT_NE(e.find("... (10 more line(s))"), std::string::npos);
}

TEST(CompilerExcerpt, WithoutAnErrorLineShowsTheFirstLines) {
  EXPECT_EQ(compiler_excerpt("sh: 1: gcc-12: not found\n", "/w/src-patched"), "    sh: 1: gcc-12: not found\n");
}

}  // namespace
}  // namespace noreboot::builder
