#include "agent/apply.h"

#include <gtest/gtest.h>

#include <thread>

#include "agent/daemon.h"
#include "agent/fake_kernel.h"
#include "agent/fs_util.h"
#include "agent/status.h"
#include "agent/test_support.h"
#include "core/bundle.h"

namespace noreboot::agent {
namespace {

namespace fs = std::filesystem;

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FakeKernel::create(dir.path() / "root", host).ok());
    ctx.root = dir.path() / "root";
    ctx.kernel = &kernel;
    ctx.store = StateStore(dir.path() / "state");
    ctx.config.transition_seconds = 0.2;
    ctx.config.signal_seconds = 0.1;
    ctx.config.reverse_seconds = 1;
    ctx.config.watch_seconds = 0;
    ctx.trust.add(key.public_key());
    ASSERT_TRUE(ctx.store.init().ok());
  }

  Manifest manifest(const std::string& name, uint64_t seq) {
    Manifest m;
    m.name = name;
    m.sequence = seq;
    m.kernel = KernelIdentity{host.release, host.version, host.build_id_hex, host.arch};
    m.fixes = {{"CVE-2026-0001", "cmdline leak"}};
    m.builder_version = "test";
    return m;
  }
  Bytes bundle(const std::string& name, uint64_t seq, const SecretKey* signer = nullptr,
               const std::string& extra = "code") {
    Manifest m = manifest(name, seq);
    auto b = build_bundle(m, as_bytes(testing::make_module_bytes(name, true, extra)), signer ? *signer : key);
    EXPECT_TRUE(b.ok()) << b.error().message();
    return *b;
  }
  Result<ApplyReport> apply(const Bytes& b, bool automatic = false) {
    ApplyOptions o;
    o.automatic = automatic;
    o.origin = "bundle test.nrp";
    return apply_bundle(ctx, b, o);
  }
  bool live(const std::string& name) {
    auto p = kernel.livepatch(name);
    return p.ok() && p->has_value() && (*p)->enabled;
  }
  void expect_refused(const Result<ApplyReport>& r, Errc code, const std::string& text) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), code) << r.error().message();
    EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("bundle test.nrp"), std::string::npos) << r.error().message();
    auto j = ctx.store.load_journal();
    EXPECT_EQ(j->step, Step::failed);
  }

  testing::TempDir dir;
  FakeHost host;
  FakeKernel kernel{dir.path() / "root"};
  SecretKey key = SecretKey::generate("test publisher");
  AgentContext ctx;
};

TEST_F(ApplyTest, GoodBundleGoesLiveAndIsRecorded) {
  Bytes b = bundle("lp_fix1", 1);
  auto r = apply(b);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->transition.result, TransitionResult::completed);
  EXPECT_TRUE(live("lp_fix1"));
  EXPECT_GT(r->prep_ms, 0);
  auto s = ctx.store.load_state();
  ASSERT_TRUE(s->applied.has_value());
  EXPECT_EQ(s->applied->sequence, 1u);
  EXPECT_EQ(s->applied->bundle_sha256, sha256_hex(b));
  EXPECT_EQ(s->applied->fixes, std::vector<std::string>{"CVE-2026-0001: cmdline leak"});
  EXPECT_EQ(s->highest_sequence[host.build_id_hex], 1u);
  EXPECT_EQ(ctx.store.load_journal()->step, Step::live);
  auto saved = read_text(ctx.store.last_good_path());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved, std::string(as_chars(b)));

  auto st = collect_status(ctx);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->applied_loaded);
  EXPECT_EQ(st->health, Health::ok) << st->reasons.front();
  auto j = status_json(*st);
  EXPECT_EQ(j["applied"]["patch"], "lp_fix1");
  EXPECT_EQ(j["applied"]["loaded"], true);
  EXPECT_EQ(j["kernel"]["build_id"], host.build_id_hex);

  auto again = apply(b);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_live);
}

TEST_F(ApplyTest, TamperedModuleIsRefusedAndNothingLoaded) {
  Bytes b = bundle("lp_fix1", 1, nullptr, "ORIGINAL-CODE");
  std::string text(as_chars(b));
  auto pos = text.find("ORIGINAL-CODE");
  ASSERT_NE(pos, std::string::npos);
  b[pos] = 'X';
  expect_refused(apply(b), Errc::integrity, "");
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1"));
}

TEST_F(ApplyTest, UntrustedSignerIsRefused) {
  SecretKey stranger = SecretKey::generate("stranger");
  expect_refused(apply(bundle("lp_fix1", 1, &stranger)), Errc::signature, stranger.id());
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1"));
}

TEST_F(ApplyTest, NoTrustedKeysIsAClearRefusal) {
  ctx.trust = TrustStore{};
  expect_refused(apply(bundle("lp_fix1", 1)), Errc::signature, "--trust");
}

TEST_F(ApplyTest, WrongKernelIsRefusedWithTheDifference) {
  Manifest m = manifest("lp_fix1", 1);
  m.kernel.build_id = "ffffffffffffffffffffffffffffffffffffffff";
  auto b = build_bundle(m, as_bytes(testing::make_module_bytes("lp_fix1")), key);
  ASSERT_TRUE(b.ok());
  expect_refused(apply(*b), Errc::refused, "build ID");
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1"));
}

TEST_F(ApplyTest, GarbageIsRefusedAsAnArchiveError) {
  Bytes junk(3000, 'z');
  expect_refused(apply(junk), Errc::invalid_input, "");
}

TEST_F(ApplyTest, ModuleNameMustMatchTheManifest) {
  Manifest m = manifest("lp_fix1", 1);
  auto b = build_bundle(m, as_bytes(testing::make_module_bytes("lp_other")), key);
  ASSERT_TRUE(b.ok());
  expect_refused(apply(*b), Errc::invalid_input, "'lp_other' but the manifest says 'lp_fix1'");
}

TEST_F(ApplyTest, NewerReplacesOlderAndRollbackIsRefused) {
  ASSERT_TRUE(apply(bundle("lp_fix1", 1)).ok());
  auto r2 = apply(bundle("lp_fix2", 2));
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  EXPECT_TRUE(live("lp_fix2"));
  EXPECT_FALSE(kernel.livepatch("lp_fix1")->has_value());
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1")) << "the replaced module must be unloaded";
  expect_refused(apply(bundle("lp_fix1", 1)), Errc::refused, "rollback");
  expect_refused(apply(bundle("lp_fix2b", 2)), Errc::refused, "different content");
  EXPECT_TRUE(live("lp_fix2"));
  // The refusals are remembered, and status says so.
  auto st = collect_status(ctx);
  EXPECT_EQ(st->health, Health::warning);
}

TEST_F(ApplyTest, StalledTransitionIsReversedUnloadedAndReported) {
  ASSERT_TRUE(write_text(ctx.root / "fake/stall", "stall_target_sleep\n").ok());
  auto r = apply(bundle("lp_fix1", 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::timeout);
  EXPECT_NE(r.error().message().find("stalled (pid 4242"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("stall_target_sleep"), std::string::npos);
  EXPECT_FALSE(kernel.livepatch("lp_fix1")->has_value());
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1"));
  auto s = ctx.store.load_state();
  EXPECT_FALSE(s->applied.has_value());
  ASSERT_EQ(s->last_blocked.size(), 1u);
  EXPECT_EQ(s->last_blocked[0].pid, 4242);
  EXPECT_EQ(ctx.store.load_journal()->step, Step::failed);
  // Nothing was applied, so the same sequence may be tried again.
  EXPECT_TRUE(s->highest_sequence.empty());
}

TEST_F(ApplyTest, KernelRejectionCarriesTheKernelLog) {
  ASSERT_TRUE(write_text(ctx.root / "fake/reject", "livepatch: symbol 'nope' not found\n").ok());
  auto r = apply(bundle("lp_fix1", 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("symbol 'nope' not found"), std::string::npos) << r.error().message();
  EXPECT_FALSE(ctx.store.load_journal()->candidate.has_value());
}

TEST_F(ApplyTest, KernelWarningsAfterTheLoadAreReported) {
  ASSERT_TRUE(write_text(ctx.root / "fake/warn_on_load", "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2\n").ok());
  auto r = apply(bundle("lp_fix1", 1));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kernel_warnings.size(), 1u);
  auto st = collect_status(ctx);
  EXPECT_EQ(st->health, Health::warning);
  EXPECT_EQ(st->state.kernel_warnings.size(), 1u);
}

TEST_F(ApplyTest, RevertDisablesUnloadsAndForgetsTheLastGood) {
  ASSERT_TRUE(apply(bundle("lp_fix1", 2)).ok());
  auto r = revert_applied(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(kernel.livepatch("lp_fix1")->has_value());
  EXPECT_FALSE(*kernel.module_loaded("lp_fix1"));
  EXPECT_FALSE(ctx.store.load_state()->applied.has_value());
  EXPECT_FALSE(fs::exists(ctx.store.last_good_path()));
  EXPECT_EQ(ctx.store.load_journal()->step, Step::idle);
  auto again = revert_applied(ctx);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::not_found);
  // The rollback guard survives a revert.
  expect_refused(apply(bundle("lp_fix0", 1)), Errc::refused, "rollback");
}

// Issue 17 item 13: the bundle that was reverted may be applied again (it is not a rollback);
// other content under the same sequence is still refused, before and after.
TEST_F(ApplyTest, TheRevertedBundleCanBeAppliedAgain) {
  Bytes b = bundle("lp_fix1", 2);
  ASSERT_TRUE(apply(b).ok());
  ASSERT_TRUE(revert_applied(ctx).ok());
  expect_refused(apply(bundle("lp_fix1b", 2)), Errc::refused, "different content");
  auto again = apply(b);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_TRUE(live("lp_fix1"));
  EXPECT_EQ(ctx.store.load_state()->applied->sequence, 2u);
  ASSERT_TRUE(revert_applied(ctx).ok());
  ASSERT_TRUE(apply(bundle("lp_fix3", 3)).ok());
  expect_refused(apply(b), Errc::refused, "rollback");
}

TEST_F(ApplyTest, CrashRightAfterLoadQuarantinesAndBlocksAutomaticReapply) {
  Bytes b = bundle("lp_fix1", 1);
  ASSERT_TRUE(apply(b).ok());
  ASSERT_TRUE(FakeKernel::reboot(ctx.root, "boot-after-crash").ok());
  auto d = reconcile_at_start(ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rebooted);
  EXPECT_FALSE(d->reapply_allowed);
  EXPECT_NE(d->report.find("crash-loop guard"), std::string::npos);
  auto r = apply(b, /*automatic=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("quarantined"), std::string::npos);
  auto st = collect_status(ctx);
  EXPECT_EQ(st->health, Health::critical);
  // By hand, the operator may still apply it.
  ASSERT_TRUE(apply(b).ok());
  EXPECT_TRUE(live("lp_fix1"));
}

TEST_F(ApplyTest, CleanRebootAllowsReapplyOfTheSameSequence) {
  Bytes b = bundle("lp_fix1", 1);
  ASSERT_TRUE(apply(b).ok());
  ASSERT_TRUE(ctx.store.mark_clean_shutdown(*kernel.boot_id()).ok());
  ASSERT_TRUE(FakeKernel::reboot(ctx.root, "boot-2").ok());
  auto d = reconcile_at_start(ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->reapply_allowed);
  auto st = collect_status(ctx);
  EXPECT_EQ(st->health, Health::warning);  // applied before the reboot, not loaded now
  auto last_good = read_text(ctx.store.last_good_path());
  ASSERT_TRUE(last_good.ok());
  auto r = apply(Bytes(last_good->begin(), last_good->end()), /*automatic=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(live("lp_fix1"));
  EXPECT_EQ(collect_status(ctx)->health, Health::ok);
}

// A host that is not enrolled still runs the daemon as a guard: it reapplies the last good
// bundle at start, stays up until stopped and then records the clean shutdown, so the next
// reboot reapplies again instead of quarantining the patch.
TEST_F(ApplyTest, UnenrolledDaemonReappliesAndRecordsTheCleanShutdown) {
  ctx.config.settle_seconds = 2;
  ASSERT_TRUE(apply(bundle("lp_fix1", 1)).ok());
  ASSERT_TRUE(ctx.store.mark_clean_shutdown(*kernel.boot_id()).ok());
  ASSERT_TRUE(FakeKernel::reboot(ctx.root, "boot-2").ok());
  std::atomic<bool> stop{false};
  Status result = ok_status();
  std::thread daemon([&] { result = run_daemon(ctx, DaemonOptions{}, stop); });
  for (int i = 0; i < 100 && !live("lp_fix1"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(live("lp_fix1"));
  // Running past settle_seconds promotes the reapplied patch to stable.
  for (int i = 0; i < 80 && ctx.store.load_journal()->step != Step::stable; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ctx.store.load_journal()->step, Step::stable);
  stop = true;
  daemon.join();
  EXPECT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(ctx.store.clean_shutdown_boot(), "boot-2");
  // --once still needs a credential: it is one check-in.
  std::atomic<bool> no_stop{false};
  Status once = run_daemon(ctx, DaemonOptions{.once = true}, no_stop);
  ASSERT_FALSE(once.ok());
  EXPECT_NE(once.error().message().find("not enrolled"), std::string::npos) << once.error().message();
}

}  // namespace
}  // namespace noreboot::agent
