#include "agent/state.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "agent/fs_util.h"
#include "agent/test_support.h"

namespace noreboot::agent {
namespace {

TEST(StateStore, EmptyWhenNothingWasWritten) {
  testing::TempDir dir;
  StateStore store(dir.path() / "state");
  ASSERT_TRUE(store.init().ok());
  auto s = store.load_state();
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->applied.has_value());
  auto j = store.load_journal();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->step, Step::idle);
}

TEST(StateStore, RoundTripsStateAndJournal) {
  testing::TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(store.init().ok());
  AgentState s;
  s.applied = AppliedPatch{"lp_fix", "ab12", 7, "6.1.0-56-amd64", "0123", {"CVE-2026-0001"}, "boot-1", 1000};
  s.highest_sequence["0123"] = 7;
  s.quarantined.push_back({"cd34", "lp_bad", "crashed", 999});
  s.last_blocked.push_back({42, 42, "stall", 0, "[<0>] f+0x1/0x2\n"});
  s.kernel_warnings = {"WARNING: x"};
  ASSERT_TRUE(store.save_state(s).ok());
  auto back = store.load_state();
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_TRUE(back->applied.has_value());
  EXPECT_EQ(back->applied->sequence, 7u);
  EXPECT_EQ(back->applied->fixes, std::vector<std::string>{"CVE-2026-0001"});
  EXPECT_EQ(back->highest_sequence.at("0123"), 7u);
  ASSERT_NE(back->quarantine_for("cd34"), nullptr);
  EXPECT_EQ(back->quarantine_for("ab12"), nullptr);
  ASSERT_EQ(back->last_blocked.size(), 1u);
  EXPECT_EQ(back->last_blocked[0].comm, "stall");

  Journal j;
  j.bundle_sha256 = "ab12";
  j.patch_name = "lp_fix";
  j.boot_id = "boot-1";
  ASSERT_TRUE(store.set_step(j, Step::transition, 1234, "waiting").ok());
  auto jb = store.load_journal();
  ASSERT_TRUE(jb.ok());
  EXPECT_EQ(jb->step, Step::transition);
  EXPECT_EQ(jb->since, 1234);
  EXPECT_EQ(jb->detail, "waiting");
}

TEST(StateStore, StateFilesAreOwnerOnlyAndNoTempFilesRemain) {
  testing::TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(store.init().ok());
  ASSERT_TRUE(store.save_state(AgentState{}).ok());
  struct stat st{};
  ASSERT_EQ(::stat((dir.path() / "state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto names = list_dir(dir.path());
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST(StateStore, CorruptStateIsAClearError) {
  testing::TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(write_text(dir.path() / "state.json", "{ not json").ok());
  auto s = store.load_state();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("state.json is not valid JSON"), std::string::npos);
  ASSERT_TRUE(write_text(dir.path() / "journal.json", R"({"step":"dancing"})").ok());
  auto j = store.load_journal();
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().message().find("unknown step 'dancing'"), std::string::npos);
}

TEST(StateLock, SecondHolderIsRefusedWithoutWaiting) {
  testing::TempDir dir;
  auto first = acquire_state_lock(dir.path(), false);
  ASSERT_TRUE(first.ok());
  auto second = acquire_state_lock(dir.path(), false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Errc::conflict);
}

}  // namespace
}  // namespace noreboot::agent
