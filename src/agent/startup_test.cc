#include "agent/startup.h"

#include <gtest/gtest.h>

namespace noreboot::agent {
namespace {

AppliedPatch patch(const std::string& sha, uint64_t seq) {
  return AppliedPatch{"lp_" + sha, sha, seq, "6.1.0-56-amd64", "b1d", {}, "boot-A", 100};
}

StartupFacts facts(Step step, const std::string& journal_boot, const std::string& now_boot) {
  StartupFacts f;
  f.journal.step = step;
  f.journal.bundle_sha256 = "sha2";
  f.journal.patch_name = "lp_sha2";
  f.journal.sequence = 2;
  f.journal.boot_id = journal_boot;
  f.journal.since = 1000;
  f.boot_id = now_boot;
  f.now = 5000;
  f.settle_seconds = 120;
  return f;
}

TEST(Startup, CrashRightAfterLoadQuarantinesTheBundle) {
  for (Step step : {Step::loading, Step::transition, Step::reverting}) {
    StartupFacts f = facts(step, "boot-A", "boot-B");
    f.state.applied = patch("sha2", 2);
    auto d = assess_startup(f);
    EXPECT_TRUE(d.rebooted);
    ASSERT_NE(d.state.quarantine_for("sha2"), nullptr) << step_name(step);
    EXPECT_FALSE(d.reapply_allowed);
    EXPECT_NE(d.report.find("crash-loop guard"), std::string::npos);
    EXPECT_NE(d.report.find("without a clean shutdown"), std::string::npos);
    EXPECT_EQ(d.journal.step, Step::idle);
    EXPECT_EQ(d.journal.boot_id, "boot-B");
  }
}

TEST(Startup, CrashSoonAfterGoingLiveQuarantinesButAfterSettleItDoesNot) {
  StartupFacts f = facts(Step::live, "boot-A", "boot-B");
  f.state.applied = patch("sha2", 2);
  f.state.last_checkin = 1000 + 30;  // last seen alive 30 s after going live
  auto d = assess_startup(f);
  ASSERT_NE(d.state.quarantine_for("sha2"), nullptr);
  EXPECT_NE(d.report.find("alive 30 s after the load"), std::string::npos) << d.report;
  EXPECT_FALSE(d.reapply_allowed);

  f.state.last_checkin = 1000 + 600;  // it was alive well past the settle time
  d = assess_startup(f);
  EXPECT_EQ(d.state.quarantine_for("sha2"), nullptr);
  EXPECT_TRUE(d.reapply_allowed);
}

TEST(Startup, CleanShutdownMeansReapply) {
  StartupFacts f = facts(Step::live, "boot-A", "boot-B");
  f.state.applied = patch("sha2", 2);
  f.clean_shutdown_boot = "boot-A";
  auto d = assess_startup(f);
  EXPECT_TRUE(d.rebooted);
  EXPECT_TRUE(d.state.quarantined.empty());
  EXPECT_TRUE(d.reapply_allowed);
  EXPECT_NE(d.report.find("clean shutdown"), std::string::npos);
}

TEST(Startup, StableBundleIsReappliedAfterACrash) {
  StartupFacts f = facts(Step::stable, "boot-A", "boot-B");
  f.state.applied = patch("sha2", 2);
  auto d = assess_startup(f);
  EXPECT_TRUE(d.state.quarantined.empty());
  EXPECT_TRUE(d.reapply_allowed);
}

TEST(Startup, QuarantinedLastGoodIsNotReapplied) {
  StartupFacts f = facts(Step::stable, "boot-A", "boot-B");
  f.state.applied = patch("sha1", 1);
  f.state.quarantined.push_back({"sha1", "lp_sha1", "earlier crash", 1});
  auto d = assess_startup(f);
  EXPECT_FALSE(d.reapply_allowed);
  EXPECT_NE(d.report.find("quarantined"), std::string::npos);
}

TEST(Startup, KilledBeforeLoadingMeansNothingLoaded) {
  for (Step step : {Step::downloaded, Step::verifying}) {
    auto d = assess_startup(facts(step, "boot-A", "boot-A"));
    EXPECT_FALSE(d.rebooted);
    EXPECT_EQ(d.journal.step, Step::idle);
    EXPECT_NE(d.report.find("nothing was loaded"), std::string::npos);
  }
}

TEST(Startup, KilledWhileLoadingIsReconciledWithTheKernel) {
  StartupFacts f = facts(Step::loading, "boot-A", "boot-A");
  f.journal.candidate = patch("sha2", 2);
  f.journal.candidate->kernel_build_id = "b1d";

  f.live_patches = {{"lp_sha2", true, false}};  // the kernel finished it
  auto d = assess_startup(f);
  EXPECT_EQ(d.journal.step, Step::live);
  ASSERT_TRUE(d.state.applied.has_value());
  EXPECT_EQ(d.state.applied->bundle_sha256, "sha2");
  EXPECT_EQ(d.state.highest_sequence["b1d"], 2u);
  EXPECT_FALSE(d.journal.candidate.has_value());

  f.live_patches = {{"lp_sha2", true, true}};  // still switching tasks
  d = assess_startup(f);
  EXPECT_EQ(d.journal.step, Step::transition);
  EXPECT_NE(d.report.find("still in transition"), std::string::npos);

  f.live_patches = {};  // never made it
  d = assess_startup(f);
  EXPECT_EQ(d.journal.step, Step::failed);
  EXPECT_FALSE(d.state.applied.has_value());
}

TEST(Startup, LiveBecomesStableAfterTheSettleTime) {
  StartupFacts f = facts(Step::live, "boot-A", "boot-A");
  f.now = f.journal.since + 60;
  EXPECT_EQ(assess_startup(f).journal.step, Step::live);
  f.now = f.journal.since + 121;
  EXPECT_EQ(assess_startup(f).journal.step, Step::stable);
}

TEST(Startup, NothingToSayOnAQuietStart) {
  auto d = assess_startup(facts(Step::stable, "boot-A", "boot-A"));
  EXPECT_FALSE(d.changed);
  EXPECT_TRUE(d.report.empty());
}

}  // namespace
}  // namespace noreboot::agent
