#include "builder/patch_set.h"

#include <gtest/gtest.h>

namespace noreboot::builder {
namespace {

TEST(PatchSet, GitDiffWithPrefixesStripsOne) {
  auto r = parse_patch(
      "diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c\n"
      "--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -7,7 +7,7 @@\n-x\n+y\n"
      "@@ -20,1 +20,1 @@\n-a\n+b\n"
      "--- a/kernel/sys.c\t2024-01-01\n+++ b/kernel/sys.c\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n",
      "fix.patch");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->strip, 1);
  ASSERT_EQ(r->files.size(), 2u);
  EXPECT_EQ(r->files[0].path, "fs/proc/cmdline.c");
  EXPECT_EQ(r->files[0].hunks, 2);
  EXPECT_EQ(r->files[0].kind, ChangeKind::modified);
  EXPECT_EQ(r->files[1].path, "kernel/sys.c");
}

TEST(PatchSet, AddedDeletedAndRenamed) {
  auto r = parse_patch(
      "--- /dev/null\n+++ b/lib/new.c\n@@ -0,0 +1 @@\n+x\n"
      "--- a/lib/old.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
      "--- a/lib/a.c\n+++ b/lib/b.c\n@@ -1 +1 @@\n-x\n+y\n",
      "p");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->files.size(), 3u);
  EXPECT_EQ(r->files[0].kind, ChangeKind::added);
  EXPECT_EQ(r->files[0].path, "lib/new.c");
  EXPECT_EQ(r->files[1].kind, ChangeKind::deleted);
  EXPECT_EQ(r->files[1].path, "lib/old.c");
  EXPECT_EQ(r->files[2].kind, ChangeKind::renamed);
  EXPECT_EQ(r->files[2].old_path, "lib/a.c");
}

TEST(PatchSet, PlainPathsUseStripZero) {
  auto r = parse_patch("--- Makefile\n+++ Makefile\n@@ -1 +1 @@\n-a\n+b\n", "p");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->strip, 0);
  EXPECT_EQ(r->files[0].path, "Makefile");
}

TEST(PatchSet, RejectsWhatItCannotRead) {
  EXPECT_EQ(parse_patch("hello\n", "p").error().code(), Errc::invalid_input);
  EXPECT_EQ(parse_patch("@@ -1 +1 @@\n", "p").error().code(), Errc::invalid_input);
  EXPECT_EQ(parse_patch("--- a/x.c\n+++ b/x.c\n", "p").error().code(), Errc::invalid_input);
  auto bin = parse_patch("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\nBinary files a/x and b/x differ\n", "p");
  EXPECT_EQ(bin.error().code(), Errc::unsupported);
  auto escape = parse_patch("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", "p");
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.error().message().find("leaves the kernel tree"), std::string::npos);
}

TEST(PatchSet, ErrorsNameTheLine) {
  auto r = parse_patch("text\n+++ b/x.c\n", "fix.patch");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("fix.patch:2"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace noreboot::builder
