#include "agent/transition.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/fake_kernel.h"
#include "agent/fs_util.h"
#include "agent/test_support.h"

namespace noreboot::agent {
namespace {

class TransitionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(FakeKernel::create(dir.path(), FakeHost{}).ok()); }
  void load(const std::string& name) {
    auto ko = dir.path() / (name + ".ko");
    ASSERT_TRUE(write_text(ko, testing::make_module_bytes(name)).ok());
    int fd = ::open(ko.c_str(), O_RDONLY);
    ASSERT_TRUE(kernel.load_module(fd, "").ok());
    ::close(fd);
  }
  TransitionTimeouts quick{0.2, 0.2, 0.5, 0.02};
  std::vector<std::string> said;
  ProgressFn progress = [this](const std::string& s) { said.push_back(s); };
  testing::TempDir dir;
  FakeKernel kernel{dir.path()};
};

TEST_F(TransitionTest, CompletesWithoutHelp) {
  load("lp_a");
  auto out = follow_transition(kernel, "lp_a", quick, progress);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->result, TransitionResult::completed);
  EXPECT_TRUE(out->blocked.empty());
  EXPECT_TRUE(said.empty());
}

TEST_F(TransitionTest, StallIsSignalledThenReversedAndTheBlockerReported) {
  ASSERT_TRUE(write_text(dir.path() / "fake/stall", "stall_target_sleep\n").ok());
  load("lp_a");
  auto out = follow_transition(kernel, "lp_a", quick, progress);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->result, TransitionResult::reversed);
  ASSERT_EQ(out->blocked.size(), 1u);
  EXPECT_EQ(out->blocked[0].comm, "stalled");
  EXPECT_NE(describe_blocked(out->blocked).find("stall_target_sleep+0x15/0x30"), std::string::npos);
  EXPECT_GE(out->seconds, 0.4);  // waited the transition and the signal timeouts
  ASSERT_EQ(said.size(), 2u);
  EXPECT_NE(said[0].find("signalling"), std::string::npos);
  EXPECT_NE(said[1].find("reversing"), std::string::npos);
  // Reversed: the patch is gone, the module can be unloaded.
  EXPECT_FALSE(kernel.livepatch("lp_a")->has_value());
  EXPECT_TRUE(unload_when_free(kernel, "lp_a", 1).ok());
  auto log = kernel.kmsg_since(0);
  bool reversed_logged = false;
  for (const auto& r : *log) reversed_logged |= r.text.find("reversing transition") != std::string::npos;
  EXPECT_TRUE(reversed_logged);
}

TEST_F(TransitionTest, WithoutASignalAttributeTheKernelsOwnSignalIsAwaited) {
  ASSERT_TRUE(write_text(dir.path() / "fake/stall", "f\n").ok());
  load("lp_a");
  std::filesystem::remove(dir.path() / "sys/kernel/livepatch/lp_a/signal");  // as on Linux >= 5.1
  auto out = follow_transition(kernel, "lp_a", quick, progress);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->result, TransitionResult::reversed);
  EXPECT_GE(out->seconds, 17.0);
  ASSERT_FALSE(said.empty());
  EXPECT_NE(said[0].find("this kernel does it itself after 15 s"), std::string::npos) << said[0];
}

TEST_F(TransitionTest, SignalCanResolveAStall) {
  ASSERT_TRUE(write_text(dir.path() / "fake/stall", "f\nsignal\n").ok());
  load("lp_a");
  auto out = follow_transition(kernel, "lp_a", quick, progress);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, TransitionResult::completed_after_signal);
  EXPECT_EQ(out->blocked.size(), 1u);
  EXPECT_TRUE((*kernel.livepatch("lp_a"))->enabled);
}

TEST_F(TransitionTest, UnloadWhileRegisteredTimesOutWithConflict) {
  load("lp_a");
  Status s = unload_when_free(kernel, "lp_a", 0.1, 0.02);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::conflict);
}

TEST(KernelTrouble, PicksWarningsBugsAndLivepatchErrors) {
  std::vector<KmsgRecord> recs = {
      {1, 6, 0, "livepatch: enabling patch 'lp_a'"},
      {2, 4, 0, "WARNING: CPU: 1 PID: 77 at kernel/foo.c:12 foo+0x1/0x2"},
      {3, 4, 0, "Call Trace:"},
      {4, 1, 0, "BUG: kernel NULL pointer dereference, address: 0000000000000008"},
      {5, 3, 0, "livepatch: failed to register patch 'lp_b'"},
      {6, 6, 0, "random: crng init done"},
      {7, 4, 0, "Oops: 0002 [#1] PREEMPT SMP NOPTI"},
  };
  auto t = kernel_trouble(recs);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].rfind("WARNING:", 0), 0u);
  EXPECT_EQ(t[1].rfind("BUG:", 0), 0u);
  EXPECT_EQ(t[2].rfind("livepatch: failed", 0), 0u);
  EXPECT_EQ(t[3].rfind("Oops", 0), 0u);
}

}  // namespace
}  // namespace noreboot::agent
