// The one file lock (core/file_lock.h): fail-fast refusals name the file and the holder, a
// waiter gets the lock once the holder lets go, and the lock dies with its holder.
#include "core/file_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>

#include "core/test_support.h"

namespace noreboot {
namespace {

TEST(FileLock, FailFastNamesTheFileTheHolderAndItsPid) {
  testing::TempDir d;
  auto file = d / "fail-fast.lock";
  LockOptions o{.wait = false, .record_pid = true, .holder = "noreboot-feed run", .busy_hint = "wait for it to finish"};
  auto first = FileLock::acquire(file, o);
  ASSERT_TRUE(first) << first.error().message();
  auto second = FileLock::acquire(file, o);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Errc::conflict);
  EXPECT_EQ(second.error().message(), "another noreboot-feed run (pid " + std::to_string(getpid()) + ") holds " +
                                          file.string() + "; wait for it to finish");
}

TEST(FileLock, IsReleasedWithItsHolder) {
  testing::TempDir d;
  auto file = d / "release.lock";
  {
    auto first = FileLock::acquire(file, {.wait = false});
    ASSERT_TRUE(first);
    EXPECT_FALSE(FileLock::acquire(file, {.wait = false}));
  }
  EXPECT_TRUE(FileLock::acquire(file, {.wait = false}));
}

TEST(FileLock, AWaiterGetsTheLockOnceTheHolderLetsGo) {
  testing::TempDir d;
  auto file = d / "wait.lock";
  std::optional<FileLock> held;
  {
    auto r = FileLock::acquire(file);
    ASSERT_TRUE(r);
    held.emplace(std::move(*r));
  }
  std::atomic<bool> released{false}, acquired{false};
  std::thread waiter([&] {
    auto r = FileLock::acquire(file, {.holder = "test", .why = "checking the wait"});
    EXPECT_TRUE(r);
    EXPECT_TRUE(released.load());  // it cannot have got the lock before the holder let go
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(acquired.load());
  released = true;
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired.load());
}

TEST(FileLock, AnUnopenableLockFileIsAnIoErrorNamingIt) {
  testing::TempDir d;
  auto file = d / "no-such-folder" / "x.lock";
  auto r = FileLock::acquire(file);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_NE(r.error().message().find(file.string()), std::string::npos);
}

}  // namespace
}  // namespace noreboot
