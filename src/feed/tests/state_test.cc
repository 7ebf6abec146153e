// The feed's state: round trip, damage named, the lock, atomic writes, resume bookkeeping.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "feed/metrics.h"
#include "feed/state.h"

namespace noreboot::feed {
namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "nr-feed-state.XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

FeedState sample() {
  FeedState s;
  s.processed_up_to = "6.1.192-1";
  VersionState v;
  v.version = "6.1.192-2";
  v.from = "6.1.192-1";
  v.add_step("derived");
  v.add_step("built");
  v.add_step("built");  // once only
  v.fixes = {{"DEBIAN-6.1.192-2", "ext4: fix NULL folio dereference in mballoc"}};
  v.kernels = {"6.1.0-55-amd64"};
  v.tests["6.1.0-55-amd64"] = "passed";
  s.versions.push_back(v);
  s.counters.found = 1;
  s.counters.built = 1;
  return s;
}

TEST(FeedState, RoundTripAndResumePoint) {
  TempDir d;
  ASSERT_TRUE(save_state(d.path, sample()).ok());
  auto s = load_state(d.path);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->processed_up_to, "6.1.192-1");
  VersionState* v = s->find("6.1.192-2");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->steps, (std::vector<std::string>{"derived", "built"}));
  EXPECT_TRUE(v->has_step("built"));
  EXPECT_FALSE(v->has_step("tested"));  // where a resumed run continues
  EXPECT_EQ(v->tests.at("6.1.0-55-amd64"), "passed");
  EXPECT_EQ(v->fixes[0].id, "DEBIAN-6.1.192-2");
  EXPECT_EQ(serialize_state(*s), serialize_state(sample()));
  for (const auto& e : fs::directory_iterator(d.path))  // no temporary file left behind
    EXPECT_EQ(e.path().filename(), "state.json");
}

TEST(FeedState, MissingIsEmptyDamagedIsNamed) {
  TempDir d;
  auto empty = load_state(d.path);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->processed_up_to.empty());
  std::string full = serialize_state(sample());
  std::ofstream(d.path / "state.json") << full.substr(0, full.size() / 2);  // truncated
  auto bad = load_state(d.path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("state.json"), std::string::npos);
  EXPECT_NE(bad.error().message().find("start_after"), std::string::npos);
}

TEST(FeedState, LockKeepsASecondRunOut) {
  TempDir d;
  {
    auto first = acquire_run_lock(d.path);
    ASSERT_TRUE(first.ok()) << first.error().message();
    auto second = acquire_run_lock(d.path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), Errc::conflict);
    EXPECT_NE(second.error().message().find(std::to_string(::getpid())), std::string::npos);
  }
  EXPECT_TRUE(acquire_run_lock(d.path).ok());  // released with its holder
}

TEST(FeedState, MetricsText) {
  FeedState s = sample();
  s.last_run = 1796000000;
  std::string t = metrics_text(s, true);
  EXPECT_NE(t.find("noreboot_feed_last_run_timestamp_seconds 1796000000\n"), std::string::npos);
  EXPECT_NE(t.find("noreboot_feed_fixes_found_total 1\n"), std::string::npos);
  EXPECT_NE(t.find("noreboot_feed_last_run_success 1\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE noreboot_feed_failures_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace noreboot::feed
