// dpkg's version order, on the cases that matter for kernels and the tricky ones of deb-version(7).
#include <gtest/gtest.h>

#include "feed/debian_version.h"

namespace noreboot::feed {
namespace {

int cmp(const char* a, const char* b) { return compare_debian_versions(a, b); }

TEST(DebianVersion, KernelVersionsInArchiveOrder) {
  EXPECT_LT(cmp("6.1.192-2", "6.1.192-3"), 0);
  EXPECT_LT(cmp("6.1.190-1", "6.1.192-1"), 0);
  EXPECT_LT(cmp("6.1.99-1", "6.1.100-1"), 0);     // numbers, not text
  EXPECT_GT(cmp("6.1.192-10", "6.1.192-9"), 0);   // revisions too
  EXPECT_EQ(cmp("6.1.192-3", "6.1.192-3"), 0);
  EXPECT_EQ(cmp("6.1.0192-3", "6.1.192-3"), 0);   // leading zeros
}

TEST(DebianVersion, TildeEpochAndLetters) {
  EXPECT_LT(cmp("1.0~rc1-1", "1.0-1"), 0);        // ~ before the end
  EXPECT_LT(cmp("1.0~~-1", "1.0~-1"), 0);
  EXPECT_LT(cmp("1.0-1", "1.0+b1-1"), 0);
  EXPECT_LT(cmp("1.0a-1", "1.0+-1"), 0);          // letters before other characters
  EXPECT_GT(cmp("1:0.1-1", "9.9-1"), 0);          // the epoch wins
  EXPECT_LT(cmp("6.1.192", "6.1.192-1"), 0);      // no revision is the lowest
  EXPECT_GT(cmp("6.1.192-1+deb12u1", "6.1.192-1"), 0);
}

TEST(DebianVersion, SortsAndDeduplicates) {
  auto v = sort_debian_versions({"6.1.192-3", "6.1.176-1", "6.1.192-1", "6.1.192-3", "6.1.190-1", "6.1.192-2"});
  EXPECT_EQ(v, (std::vector<std::string>{"6.1.176-1", "6.1.190-1", "6.1.192-1", "6.1.192-2", "6.1.192-3"}));
}

TEST(DebianVersion, Validity) {
  EXPECT_TRUE(valid_debian_version("6.1.192-3"));
  EXPECT_TRUE(valid_debian_version("1:2.0~rc1+b2-1"));
  EXPECT_FALSE(valid_debian_version(""));
  EXPECT_FALSE(valid_debian_version("linux"));
  EXPECT_FALSE(valid_debian_version("6.1 192"));
  EXPECT_FALSE(valid_debian_version("6.1.192-3;rm"));
  EXPECT_FALSE(valid_debian_version("6.1.192-"));
  EXPECT_EQ(kernel_series("6.1.192-3"), "6.1");
  EXPECT_EQ(kernel_series("6.12.5-1"), "6.12");
}

}  // namespace
}  // namespace noreboot::feed
