// Failpoints: silent unless named, "error" makes hit() true, the default action kills the
// process with SIGKILL (a death test: the child dies, the test process goes on).
#include "core/failpoint.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

namespace noreboot {
namespace {

TEST(Failpoint, CompiledIntoTestBuilds) { EXPECT_TRUE(failpoint::kCompiledIn); }

TEST(Failpoint, ErrorAndUnnamed) {
  ::unsetenv("NOREBOOT_FAILPOINTS");
  EXPECT_FALSE(failpoint::hit("a.b"));
  ::setenv("NOREBOOT_FAILPOINTS", "x.y=error,a.b=error", 1);
  EXPECT_TRUE(failpoint::hit("a.b"));
  EXPECT_TRUE(failpoint::hit("x.y"));
  EXPECT_FALSE(failpoint::hit("a"));    // whole names only
  EXPECT_FALSE(failpoint::hit("a.bc"));
  ::unsetenv("NOREBOOT_FAILPOINTS");
}

TEST(FailpointDeathTest, KillIsTheDefaultAction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("NOREBOOT_FAILPOINTS", "other,here", 1);
        failpoint::hit("here");
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_EXIT(
      {
        ::setenv("NOREBOOT_FAILPOINTS", "here=kill", 1);
        failpoint::hit("here");
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

}  // namespace
}  // namespace noreboot
