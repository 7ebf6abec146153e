// The inbox (feed/inbox.h): names, what a patch is, and taking files into work items.
#include "feed/inbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace noreboot::feed {
namespace {
namespace fs = std::filesystem;

const char* kPatch =
    "--- a/fs/ext4/mballoc.c\n+++ b/fs/ext4/mballoc.c\n@@ -1,3 +1,3 @@\n int a;\n-int b;\n+int c;\n int d;\n";

TEST(Inbox, FileNames) {
  EXPECT_EQ(inbox_patch_cve("CVE-2026-12345.patch"), "CVE-2026-12345");
  EXPECT_EQ(inbox_patch_cve("CVE-2026-1001.patch"), "CVE-2026-1001");
  EXPECT_EQ(inbox_check_cve("CVE-2026-12345.check.sh"), "CVE-2026-12345");
  for (const char* bad : {"CVE-2026-123.patch", "cve-2026-12345.patch", "CVE-2026-12345.diff", "CVE-26-12345.patch",
                          "CVE-2026-12345", "notes.txt", "CVE-2026-12x45.patch", ".patch", "../CVE-2026-1234.patch"})
    EXPECT_FALSE(inbox_patch_cve(bad)) << bad;
  EXPECT_FALSE(inbox_check_cve("CVE-2026-12345.sh"));
  EXPECT_FALSE(inbox_check_cve("CVE-2026-12345.patch"));
  EXPECT_EQ(inbox_item_name("6.1.192-1", "CVE-2026-1001"), "6.1.192-1+CVE-2026-1001");
}

TEST(Inbox, UnifiedDiffs) {
  EXPECT_TRUE(looks_like_unified_diff(kPatch));
  EXPECT_TRUE(looks_like_unified_diff(std::string("From: someone\nSubject: fix\n\n") + kPatch));
  EXPECT_FALSE(looks_like_unified_diff(""));
  EXPECT_FALSE(looks_like_unified_diff("this is a note about CVE-2026-1001\n"));
  EXPECT_FALSE(looks_like_unified_diff("--- a/x\n@@ -1 +1 @@\n"));      // no +++ line
  EXPECT_FALSE(looks_like_unified_diff("+++ b/x\n--- a/x\n"));           // no hunk
  EXPECT_FALSE(looks_like_unified_diff("\x7f" "ELF\x02\x01\x01 binary"));
}

class InboxTake : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nr-inbox-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_ / "inbox");
    VersionState stable;
    stable.version = "6.1.192-1";
    stable.from = "6.1.190-1";
    stable.status = "needs_fix_patch";
    stable.steps = {"derived"};
    stable.cves = {"CVE-2026-1001", "CVE-2026-1002"};
    stable.fixes = {{"CVE-2026-1001", "ext4: fix a race in the block allocator"}, {"CVE-2026-1002", "net: sched: plug a leak"}};
    state_.processed_up_to = "6.1.192-1";
    state_.versions.push_back(stable);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void drop(const std::string& name, const std::string& text) { std::ofstream(dir_ / "inbox" / name) << text; }
  int take() {
    auto n = take_inbox(dir_, state_, out_);
    EXPECT_TRUE(n.ok()) << n.error().message();
    return n.ok() ? *n : -1;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
  FeedState state_;
  std::ostringstream out_;
};

TEST_F(InboxTake, AGoodPatchBecomesADerivedWorkItemWithItsCheckScript) {
  drop("CVE-2026-1001.patch", kPatch);
  drop("CVE-2026-1001.check.sh", "grep -q ok /proc/version\n");
  EXPECT_EQ(take(), 1);
  ASSERT_EQ(state_.versions.size(), 2u);
  const VersionState& item = state_.versions[1];
  EXPECT_EQ(item.version, "6.1.192-1+CVE-2026-1001");
  EXPECT_EQ(item.from, "6.1.192-1");
  EXPECT_EQ(item.inbox_cve, "CVE-2026-1001");
  EXPECT_EQ(item.steps, std::vector<std::string>{"derived"});
  ASSERT_EQ(item.fixes.size(), 1u);
  EXPECT_EQ(item.fixes[0].id, "CVE-2026-1001");
  EXPECT_EQ(item.fixes[0].description, "ext4: fix a race in the block allocator");
  fs::path vdir = dir_ / "versions" / item.version;
  EXPECT_EQ(read(vdir / "fix.patch"), kPatch);
  EXPECT_EQ(read(vdir / "check.sh"), "grep -q ok /proc/version\n");
  EXPECT_FALSE(fs::exists(dir_ / "inbox" / "CVE-2026-1001.patch"));
  EXPECT_FALSE(fs::exists(dir_ / "inbox" / "CVE-2026-1001.check.sh"));
  // Saved before the inbox file went away: the state on disk has the item.
  auto saved = load_state(dir_);
  ASSERT_TRUE(saved.ok());
  ASSERT_EQ(saved->versions.size(), 2u);
  EXPECT_EQ(saved->versions[1].inbox_cve, "CVE-2026-1001");
  EXPECT_EQ(take(), 0);  // nothing left
}

TEST_F(InboxTake, BadFilesAreRejectedOnceWithTheReason) {
  drop("notes.txt", "remember to patch\n");
  drop("CVE-2026-7777.patch", kPatch);                 // no stable update waits for it
  drop("CVE-2026-1002.patch", "I could not make a patch, sorry\n");  // not a diff
  drop("CVE-2026-9999.check.sh", "true\n");            // a check without its patch
  EXPECT_EQ(take(), 0);
  EXPECT_EQ(state_.versions.size(), 1u);
  auto rejections = inbox_rejections(dir_);
  ASSERT_EQ(rejections.size(), 4u);
  std::map<std::string, std::string> why(rejections.begin(), rejections.end());
  EXPECT_NE(why["notes.txt"].find("expected CVE-YYYY-NNNN.patch"), std::string::npos) << why["notes.txt"];
  EXPECT_NE(why["CVE-2026-7777.patch"].find("not a CVE of a stable update waiting"), std::string::npos);
  EXPECT_NE(why["CVE-2026-7777.patch"].find("CVE-2026-1001, CVE-2026-1002"), std::string::npos);
  EXPECT_NE(why["CVE-2026-1002.patch"].find("not a patch"), std::string::npos);
  EXPECT_NE(why["CVE-2026-9999.check.sh"].find("without its patch"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "inbox" / "rejected" / "CVE-2026-1002.patch"));
  EXPECT_TRUE(fs::is_empty(dir_ / "inbox" / "rejected") == false);
  for (const auto& e : fs::directory_iterator(dir_ / "inbox")) EXPECT_TRUE(e.is_directory()) << e.path();
  std::string said = out_.str();
  EXPECT_NE(said.find("rejected CVE-2026-1002.patch: not a patch"), std::string::npos) << said;
  out_.str("");
  EXPECT_EQ(take(), 0);  // never again
  EXPECT_EQ(out_.str(), "");
}

TEST_F(InboxTake, ASecondPatchForATakenCveIsRefusedUnlessTheFirstWasRejected) {
  drop("CVE-2026-1001.patch", kPatch);
  EXPECT_EQ(take(), 1);
  // A kill after the item was saved, before the file was removed: the same file again is dropped quietly.
  drop("CVE-2026-1001.patch", kPatch);
  EXPECT_EQ(take(), 0);
  EXPECT_FALSE(fs::exists(dir_ / "inbox" / "CVE-2026-1001.patch"));
  EXPECT_TRUE(inbox_rejections(dir_).empty());
  // Another patch while that one stands: refused.
  std::string other = std::string(kPatch) + "@@ -9 +9 @@\n-x\n+y\n";
  drop("CVE-2026-1001.patch", other);
  EXPECT_EQ(take(), 0);
  ASSERT_EQ(inbox_rejections(dir_).size(), 1u);
  EXPECT_NE(inbox_rejections(dir_)[0].second.find("already has a fix from the inbox"), std::string::npos);
  // Its patch rejected after the build: a corrected one starts the CVE again.
  state_.versions[1].status = "rejected";
  state_.versions[1].steps = {"derived", "built"};
  drop("CVE-2026-1001.patch", other);
  EXPECT_EQ(take(), 1);
  ASSERT_EQ(state_.versions.size(), 2u);
  EXPECT_EQ(state_.versions[1].status, "in_progress");
  EXPECT_EQ(state_.versions[1].steps, std::vector<std::string>{"derived"});
  EXPECT_EQ(read(dir_ / "versions" / "6.1.192-1+CVE-2026-1001" / "fix.patch"), other);
}

}  // namespace
}  // namespace noreboot::feed
