#include "agent/fake_kernel.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/fs_util.h"
#include "agent/test_support.h"

namespace noreboot::agent {
namespace {

namespace fs = std::filesystem;

class FakeKernelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(FakeKernel::create(dir.path(), FakeHost{}).ok()); }

  Status load(const std::string& name, bool livepatch = true) {
    fs::path ko = dir.path() / (name + ".ko");
    EXPECT_TRUE(write_text(ko, testing::make_module_bytes(name, livepatch)).ok());
    int fd = ::open(ko.c_str(), O_RDONLY);
    Status s = kernel.load_module(fd, "");
    ::close(fd);
    return s;
  }

  testing::TempDir dir;
  FakeKernel kernel{dir.path()};
};

TEST_F(FakeKernelTest, LoadCompletesTransitionAndReplacesEarlierPatches) {
  ASSERT_TRUE(load("lp_a").ok());
  auto a = kernel.livepatch("lp_a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_TRUE((*a)->enabled);
  EXPECT_FALSE((*a)->transition);

  ASSERT_TRUE(load("lp_b").ok());
  auto list = kernel.list_livepatches();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "lp_b");
  // The replaced patch's module stays loaded until unloaded.
  EXPECT_TRUE(*kernel.module_loaded("lp_a"));
  EXPECT_TRUE(kernel.unload_module("lp_a").ok());
  EXPECT_FALSE(*kernel.module_loaded("lp_a"));
}

TEST_F(FakeKernelTest, SameNameTwiceIsEexist) {
  ASSERT_TRUE(load("lp_a").ok());
  Status again = load("lp_a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::conflict);
  EXPECT_NE(again.error().message().find("File exists"), std::string::npos);
}

TEST_F(FakeKernelTest, PatchInUseCannotBeUnloadedUntilDisabled) {
  ASSERT_TRUE(load("lp_a").ok());
  Status busy = kernel.unload_module("lp_a");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code(), Errc::conflict);
  ASSERT_TRUE(kernel.disable_livepatch("lp_a").ok());
  EXPECT_FALSE(kernel.livepatch("lp_a")->has_value());
  EXPECT_TRUE(kernel.unload_module("lp_a").ok());
}

TEST_F(FakeKernelTest, StallKeepsTransitionAndReportsTheBlockedTask) {
  ASSERT_TRUE(write_text(dir.path() / "fake/stall", "stall_target_func\n").ok());
  ASSERT_TRUE(load("lp_a").ok());
  EXPECT_TRUE((*kernel.livepatch("lp_a"))->transition);
  auto blocked = kernel.blocked_tasks(1);
  ASSERT_TRUE(blocked.ok());
  ASSERT_EQ(blocked->size(), 1u);
  EXPECT_EQ((*blocked)[0].pid, 4242);
  EXPECT_EQ((*blocked)[0].comm, "stalled");
  EXPECT_EQ((*blocked)[0].patch_state, 0);
  EXPECT_NE((*blocked)[0].stack.find("stall_target_func"), std::string::npos);
  // A signal does not help this stall; reversing does.
  ASSERT_TRUE(kernel.signal_livepatch("lp_a").ok());
  EXPECT_TRUE((*kernel.livepatch("lp_a"))->transition);
  ASSERT_TRUE(kernel.disable_livepatch("lp_a").ok());
  EXPECT_FALSE(kernel.livepatch("lp_a")->has_value());
  EXPECT_TRUE(kernel.blocked_tasks(1)->empty());
}

TEST_F(FakeKernelTest, SignalResolvesASignalableStall) {
  ASSERT_TRUE(write_text(dir.path() / "fake/stall", "f\nsignal\n").ok());
  ASSERT_TRUE(load("lp_a").ok());
  EXPECT_TRUE((*kernel.livepatch("lp_a"))->transition);
  ASSERT_TRUE(kernel.signal_livepatch("lp_a").ok());
  EXPECT_FALSE((*kernel.livepatch("lp_a"))->transition);
}

TEST_F(FakeKernelTest, KernelLogRecordsAreOrderedAndFiltered) {
  uint64_t start = *kernel.kmsg_next_seq();
  ASSERT_TRUE(FakeKernel::log(dir.path(), 4, "WARNING: CPU: 1 PID: 9 at x.c:1").ok());
  auto recs = kernel.kmsg_since(start);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].seq, start);
  EXPECT_EQ((*recs)[0].level, 4);
  EXPECT_EQ(*kernel.kmsg_next_seq(), start + 1);
}

TEST_F(FakeKernelTest, RebootClearsModulesAndChangesBootId) {
  ASSERT_TRUE(load("lp_a").ok());
  std::string before = *kernel.boot_id();
  ASSERT_TRUE(FakeKernel::reboot(dir.path(), "boot-2").ok());
  EXPECT_NE(*kernel.boot_id(), before);
  EXPECT_TRUE(kernel.list_livepatches()->empty());
  EXPECT_FALSE(*kernel.module_loaded("lp_a"));
}

TEST_F(FakeKernelTest, NonLivepatchModuleGetsNoSysfsPatch) {
  ASSERT_TRUE(load("plain", false).ok());
  EXPECT_TRUE(*kernel.module_loaded("plain"));
  EXPECT_TRUE(kernel.list_livepatches()->empty());
}

}  // namespace
}  // namespace noreboot::agent
