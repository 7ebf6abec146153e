#include "server/rollout.h"

#include <gtest/gtest.h>

namespace noreboot::server {
namespace {

const std::string kBuild = "aa00bb11cc22dd33ee44ff5566778899aabbccdd";
const std::string kOther = "1111111111111111111111111111111111111111";

BundleRecord bundle(char c, std::int64_t seq, const std::string& build = kBuild) {
  return {std::string(64, c), 10, "nr_fix", seq, "6.1.0-56-amd64", build, "x86_64", 0, false, ""};
}

HostRecord host(const std::string& id, const std::string& group = "web",
                std::optional<std::uint64_t> applied_seq = std::nullopt) {
  HostRecord h;
  h.id = id;
  h.group = group;
  h.tags = {"eu"};
  h.kernel = {"6.1.0-56-amd64", "#1", kBuild, "x86_64"};
  if (applied_seq) h.applied = api::AppliedPatch{"nr_fix", *applied_seq, std::string(64, '0')};
  return h;
}

RolloutRecord rollout(const std::string& id, char bundle_char, std::vector<api::Stage> stages) {
  RolloutRecord r;
  r.id = id;
  r.bundle_sha256 = std::string(64, bundle_char);
  r.stages = std::move(stages);
  r.created_at = r.stage_started_at = 1000;
  return r;
}

auto never_failed = [](const std::string&) { return false; };

TEST(Placement, DeterministicAndUniform) {
  EXPECT_EQ(placement_bucket("r_1", "h_1"), placement_bucket("r_1", "h_1"));
  EXPECT_NE(placement_bucket("r_1", "h_1"), placement_bucket("r_2", "h_1"));
  int below10 = 0, below50 = 0;
  for (int i = 0; i < 10000; ++i) {
    double b = placement_bucket("r_x", "h_" + std::to_string(i));
    ASSERT_GE(b, 0);
    ASSERT_LT(b, 100);
    below10 += b < 10;
    below50 += b < 50;
  }
  EXPECT_NEAR(below10, 1000, 120);
  EXPECT_NEAR(below50, 5000, 250);
}

TEST(Window, DailyAndWrapping) {
  api::MaintenanceWindow day{9 * 60, 17 * 60};
  std::int64_t midnight = 1795046400;  // a UTC midnight
  EXPECT_FALSE(window_open(day, midnight + 8 * 3600));
  EXPECT_TRUE(window_open(day, midnight + 9 * 3600));
  EXPECT_FALSE(window_open(day, midnight + 17 * 3600));
  api::MaintenanceWindow night{22 * 60, 4 * 60};
  EXPECT_TRUE(window_open(night, midnight + 23 * 3600));
  EXPECT_TRUE(window_open(night, midnight + 3 * 3600));
  EXPECT_FALSE(window_open(night, midnight + 12 * 3600));
  EXPECT_TRUE(window_open(std::nullopt, 0));
}

TEST(ChooseOffer, StagePercentSelectsTheRightShareOfHosts) {
  FleetSnapshot snap;
  snap.bundles[std::string(64, 'a')] = bundle('a', 1);
  snap.rollouts = {rollout("r_1", 'a', {{10, 60, 0}, {100, 0, 0}})};
  int offered = 0;
  for (int i = 0; i < 2000; ++i) {
    auto h = host("h_" + std::to_string(i));
    auto d = choose_offer(h, snap, 1000, never_failed);
    bool expect = placement_bucket("r_1", h.id) < 10;
    ASSERT_EQ(d.bundle.has_value(), expect) << h.id << " " << d.reason;
    offered += d.bundle.has_value();
  }
  EXPECT_NEAR(offered, 200, 50);
  snap.rollouts[0].current_stage = 1;
  EXPECT_TRUE(choose_offer(host("h_7"), snap, 1000, never_failed).bundle.has_value());
}

TEST(ChooseOffer, NeverAnotherKernelNorOlderNorBlockedNorFailed) {
  FleetSnapshot snap;
  snap.bundles[std::string(64, 'a')] = bundle('a', 5);
  snap.rollouts = {rollout("r_1", 'a', {{100, 0, 0}})};
  EXPECT_EQ(choose_offer(host("h_1"), snap, 1000, never_failed).bundle->sequence, 5);

  auto other = host("h_1");
  other.kernel.build_id = kOther;
  EXPECT_FALSE(choose_offer(other, snap, 1000, never_failed).bundle);
  auto other_release = host("h_1");
  other_release.kernel.release = "6.1.0-57-amd64";
  EXPECT_FALSE(choose_offer(other_release, snap, 1000, never_failed).bundle);

  EXPECT_FALSE(choose_offer(host("h_1", "web", 5), snap, 1000, never_failed).bundle);
  EXPECT_FALSE(choose_offer(host("h_1", "web", 6), snap, 1000, never_failed).bundle);
  EXPECT_TRUE(choose_offer(host("h_1", "web", 4), snap, 1000, never_failed).bundle);

  auto failed = [](const std::string& sha) { return sha == std::string(64, 'a'); };
  auto d = choose_offer(host("h_1"), snap, 1000, failed);
  EXPECT_FALSE(d.bundle);
  EXPECT_EQ(d.reason, "host already failed with this bundle");

  snap.bundles[std::string(64, 'a')].blocked = true;
  EXPECT_FALSE(choose_offer(host("h_1"), snap, 1000, never_failed).bundle);
}

TEST(ChooseOffer, HighestSequenceWinsAndHaltedRolloutsOfferNothing) {
  FleetSnapshot snap;
  snap.bundles[std::string(64, 'a')] = bundle('a', 3);
  snap.bundles[std::string(64, 'b')] = bundle('b', 4);
  snap.bundles[std::string(64, 'c')] = bundle('c', 9, kOther);
  snap.rollouts = {rollout("r_1", 'a', {{100, 0, 0}}), rollout("r_2", 'b', {{100, 0, 0}}),
                   rollout("r_3", 'c', {{100, 0, 0}})};
  auto d = choose_offer(host("h_1"), snap, 1000, never_failed);
  ASSERT_TRUE(d.bundle);
  EXPECT_EQ(d.bundle->sequence, 4);
  EXPECT_EQ(d.rollout_id, "r_2");
  snap.rollouts[1].state = RolloutState::halted;
  EXPECT_EQ(choose_offer(host("h_1"), snap, 1000, never_failed).bundle->sequence, 3);
}

TEST(ChooseOffer, GroupsTagsWindowAndPins) {
  FleetSnapshot snap;
  snap.bundles[std::string(64, 'a')] = bundle('a', 3);
  snap.bundles[std::string(64, 'b')] = bundle('b', 4);
  auto r = rollout("r_1", 'b', {{100, 0, 0}});
  r.groups = {"web"};
  r.tags = {"eu"};
  snap.rollouts = {r};
  EXPECT_TRUE(choose_offer(host("h_1", "web"), snap, 1000, never_failed).bundle);
  EXPECT_FALSE(choose_offer(host("h_1", "db"), snap, 1000, never_failed).bundle);
  auto no_tag = host("h_1", "web");
  no_tag.tags = {"us"};
  EXPECT_FALSE(choose_offer(no_tag, snap, 1000, never_failed).bundle);

  std::int64_t midnight = 1795046400;
  snap.rollouts[0].window = api::MaintenanceWindow{2 * 60, 3 * 60};
  EXPECT_FALSE(choose_offer(host("h_1"), snap, midnight + 3600, never_failed).bundle);
  EXPECT_TRUE(choose_offer(host("h_1"), snap, midnight + 2 * 3600 + 5, never_failed).bundle);
  snap.rollouts[0].window.reset();

  // Pinned to the older bundle: offered that one, never the newer.
  snap.pins = {{"web", std::string(64, 'a'), 0}};
  auto d = choose_offer(host("h_1", "web"), snap, 1000, never_failed);
  ASSERT_TRUE(d.bundle);
  EXPECT_EQ(d.bundle->sequence, 3);
  EXPECT_EQ(d.rollout_id, "");
  EXPECT_FALSE(choose_offer(host("h_1", "web", 3), snap, 1000, never_failed).bundle);
  // Pinned until a date: nothing before it, the rollout after it.
  snap.pins = {{"web", "", 2000}};
  EXPECT_FALSE(choose_offer(host("h_1", "web"), snap, 1999, never_failed).bundle);
  EXPECT_EQ(choose_offer(host("h_1", "web"), snap, 2000, never_failed).bundle->sequence, 4);
}

TEST(EvaluateRollout, AdvancesAfterSoakThenCompletes) {
  auto r = rollout("r_1", 'a', {{1, 60, 0}, {50, 120, 2}, {100, 30, 5}});
  auto s = evaluate_rollout(r, {}, 1059);
  EXPECT_FALSE(s.changed);
  s = evaluate_rollout(r, {}, 1060);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(s.event, "advanced");
  EXPECT_EQ(s.next.current_stage, 1);
  EXPECT_EQ(s.next.stage_started_at, 1060);
  s = evaluate_rollout(s.next, {0, 10, 2}, 1180);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(s.next.current_stage, 2);
  s = evaluate_rollout(s.next, {0, 10, 2}, 1210);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(s.next.state, RolloutState::completed);
  EXPECT_FALSE(evaluate_rollout(s.next, {0, 10, 2}, 99999).changed);
}

TEST(EvaluateRollout, HaltsAndBlocksWhenFailuresPassTheBudget) {
  auto r = rollout("r_1", 'a', {{10, 600, 1}, {100, 0, 5}});
  EXPECT_FALSE(evaluate_rollout(r, {5, 3, 1}, 1001).changed);  // within budget, still soaking
  auto s = evaluate_rollout(r, {5, 3, 2}, 1001);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(s.next.state, RolloutState::halted);
  EXPECT_TRUE(s.block_bundle);
  EXPECT_NE(s.next.halt_reason.find("2 failed hosts exceed the failure budget of 1"), std::string::npos);
  // Even a soaked stage does not advance past too many failures.
  s = evaluate_rollout(r, {0, 0, 2}, 999999);
  EXPECT_EQ(s.next.state, RolloutState::halted);
  // Halted stays halted.
  EXPECT_FALSE(evaluate_rollout(s.next, {}, 999999).changed);
}

TEST(ManualActions, PromoteHaltResume) {
  auto r = rollout("r_1", 'a', {{10, 600, 1}, {100, 0, 5}});
  auto p = promote_rollout(r, 1500);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->current_stage, 1);
  auto p2 = promote_rollout(*p, 1600);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->state, RolloutState::completed);
  EXPECT_FALSE(promote_rollout(*p2, 1700).ok());
  auto h = halt_rollout(r, "");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->state, RolloutState::halted);
  EXPECT_FALSE(halt_rollout(*h, "again").ok());
  auto bad = promote_rollout(*h, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::conflict);
  auto res = resume_rollout(*h, 2000, 0);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->state, RolloutState::running);
  EXPECT_EQ(res->stage_started_at, 2000);
  EXPECT_FALSE(resume_rollout(r, 1, 0).ok());
}

// A rollout awaiting approval offers nothing and never advances or halts on its own; approving
// starts it at stage 1, soaking from the approval; approving again is a conflict.
TEST(ManualActions, AwaitingApprovalOffersNothingUntilApprovedOnce) {
  FleetSnapshot snap;
  snap.bundles[std::string(64, 'a')] = bundle('a', 3);
  auto r = rollout("r_1", 'a', {{100, 600, 0}});
  r.state = RolloutState::awaiting_approval;
  snap.rollouts = {r};
  EXPECT_FALSE(choose_offer(host("h_1"), snap, 1000, never_failed).bundle);
  EXPECT_FALSE(evaluate_rollout(r, {0, 0, 5}, 999999).changed);  // failures elsewhere: still waiting
  EXPECT_FALSE(promote_rollout(r, 1000).ok());
  auto approved = approve_rollout(r, 5000);
  ASSERT_TRUE(approved.ok()) << approved.error().message();
  EXPECT_EQ(approved->state, RolloutState::running);
  EXPECT_EQ(approved->current_stage, 0);
  EXPECT_EQ(approved->stage_started_at, 5000);
  snap.rollouts = {*approved};
  EXPECT_TRUE(choose_offer(host("h_1"), snap, 5001, never_failed).bundle);
  auto again = approve_rollout(*approved, 6000);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::conflict);
  EXPECT_NE(again.error().message().find("already approved"), std::string::npos) << again.error().message();
  EXPECT_FALSE(approve_rollout(rollout("r_2", 'a', {{100, 0, 0}}), 1).ok());  // never waited
}

// Resuming after a halt on failures: the failures already counted do not halt it again; new
// failures past the budget do.
TEST(ManualActions, ResumeCountsOnlyNewFailures) {
  auto r = rollout("r_1", 'a', {{10, 600, 1}, {100, 0, 5}});
  auto halted = evaluate_rollout(r, {0, 3, 2}, 1100);
  ASSERT_EQ(halted.next.state, RolloutState::halted);
  auto resumed = resume_rollout(halted.next, 1200, 2);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->failure_baseline, 2);
  auto same = evaluate_rollout(*resumed, {0, 3, 2}, 1300);
  EXPECT_FALSE(same.changed) << same.next.halt_reason;
  auto one_more = evaluate_rollout(*resumed, {0, 3, 3}, 1300);  // 1 new failure: within the budget of 1
  EXPECT_FALSE(one_more.changed);
  auto two_more = evaluate_rollout(*resumed, {0, 3, 4}, 1300);
  ASSERT_TRUE(two_more.changed);
  EXPECT_EQ(two_more.next.state, RolloutState::halted);
  EXPECT_NE(two_more.next.halt_reason.find("2 failed hosts since the rollout was resumed"), std::string::npos)
      << two_more.next.halt_reason;
  // A second resume never lowers the baseline.
  auto again = resume_rollout(two_more.next, 1400, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->failure_baseline, 2);
}

// A fix rollout holds one bundle per kernel: each host gets its own kernel's, one placement
// across kernels.
TEST(ChooseOffer, FixRolloutOffersEachHostItsKernelsBundle) {
  FleetSnapshot snap;
  BundleRecord mine = bundle('a', 5), other = bundle('b', 5, kOther);
  other.kernel_release = "6.1.0-57-amd64";
  snap.bundles = {{mine.sha256, mine}, {other.sha256, other}};
  RolloutRecord r = rollout("r_fix", 'x', {{100, 0, 0}});
  r.bundle_sha256.clear();
  r.fix_id = "CVE-1";
  r.bundles = {other.sha256, mine.sha256};
  snap.rollouts = {r};
  auto d = choose_offer(host("h_1"), snap, 2000, never_failed);
  ASSERT_TRUE(d.bundle.has_value()) << d.reason;
  EXPECT_EQ(d.bundle->sha256, mine.sha256);
  EXPECT_EQ(d.rollout_id, "r_fix");
  HostRecord on_other = host("h_2");
  on_other.kernel = {"6.1.0-57-amd64", "#1", kOther, "x86_64"};
  EXPECT_EQ(choose_offer(on_other, snap, 2000, never_failed).bundle->sha256, other.sha256);
  HostRecord elsewhere = host("h_3");
  elsewhere.kernel.build_id = std::string(40, '9');
  EXPECT_FALSE(choose_offer(elsewhere, snap, 2000, never_failed).bundle.has_value());
  snap.bundles[mine.sha256].blocked = true;  // a halted fix blocks all of its bundles
  EXPECT_FALSE(choose_offer(host("h_1"), snap, 2000, never_failed).bundle.has_value());
}

}  // namespace
}  // namespace noreboot::server
