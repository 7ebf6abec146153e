// GroupCommit against a fake apply function: batching under load, order, flush, failures.
#include "server/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace noreboot::server {
namespace {

WriteBatch event_part(const std::string& host, int n) {
  WriteBatch b;
  b.events.push_back({host, {n, "report", std::to_string(n)}});
  return b;
}

// Records every batch it is asked to commit; slow, so parts pile up meanwhile.
struct Recorder {
  std::mutex mu;
  std::vector<WriteBatch> batches;
  std::chrono::milliseconds delay{0};
  std::function<Status(const WriteBatch&)> fail;  // optional: decides a batch's outcome
  Status apply(const WriteBatch& b) {
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu);
    if (fail) {
      Status st = fail(b);
      if (!st) return st;
    }
    batches.push_back(b);
    return ok_status();
  }
};

GroupCommit::Options fast() { return {std::chrono::microseconds(500), 20000}; }

TEST(GroupCommit, ManyPartsFewCommitsEveryCallbackOnceInOrder) {
  Recorder rec;
  rec.delay = std::chrono::milliseconds(5);
  std::atomic<int> done{0}, errors{0};
  {
    GroupCommit gc([&](const WriteBatch& b) { return rec.apply(b); }, fast());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 250; ++i)
          gc.submit(event_part("h_" + std::to_string(t), i), [&](const Status& st) {
            if (!st) ++errors;
            ++done;
          });
      });
    for (auto& th : threads) th.join();
    gc.flush();
    EXPECT_EQ(done.load(), 1000);
    EXPECT_EQ(gc.pending(), 0u);
    auto stats = gc.stats();
    EXPECT_EQ(stats.parts, 1000u);
    EXPECT_EQ(stats.rows, 1000u);
    EXPECT_LT(stats.commits, 200u) << "parts were not grouped";
    EXPECT_EQ(stats.commits, rec.batches.size());
  }
  EXPECT_EQ(errors.load(), 0);
  // Each thread's parts arrive in the order it submitted them.
  std::map<std::string, int> last;
  for (const auto& b : rec.batches)
    for (const auto& e : b.events) {
      auto [it, fresh] = last.emplace(e.host_id, -1);
      EXPECT_EQ(e.event.time, it->second + 1) << e.host_id;
      it->second = static_cast<int>(e.event.time);
    }
  EXPECT_EQ(last.size(), 4u);
  for (const auto& [h, n] : last) EXPECT_EQ(n, 249) << h;
}

TEST(GroupCommit, FlushWaitsForCommitAndCallbacks) {
  Recorder rec;
  rec.delay = std::chrono::milliseconds(50);
  GroupCommit gc([&](const WriteBatch& b) { return rec.apply(b); }, {std::chrono::seconds(30), 20000});
  bool called = false;  // written by the committer thread, read after flush()
  gc.submit(event_part("h_1", 0), [&](const Status& st) {
    EXPECT_TRUE(st.ok());
    called = true;
  });
  auto started = std::chrono::steady_clock::now();
  gc.flush();
  EXPECT_TRUE(called);
  // A flush does not sit out the linger (30 s) when it is the one waiting: a bound far from
  // both the commit (50 ms) and the linger, so a busy machine cannot fail it.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  gc.flush();  // nothing queued: returns at once
}

TEST(GroupCommit, OneBadPartDoesNotFailItsNeighbours) {
  Recorder rec;
  rec.delay = std::chrono::milliseconds(20);
  rec.fail = [](const WriteBatch& b) -> Status {
    for (const auto& e : b.events)
      if (e.host_id == "h_bad") return Error(Errc::conflict, "bad row");
    return ok_status();
  };
  GroupCommit gc([&](const WriteBatch& b) { return rec.apply(b); }, {std::chrono::milliseconds(50), 20000});
  std::map<std::string, bool> ok;
  std::mutex mu;
  for (std::string h : {"h_1", "h_bad", "h_2"})
    gc.submit(event_part(h, 1), [&, h](const Status& st) {
      std::lock_guard lock(mu);
      ok[h] = st.ok();
    });
  gc.flush();
  EXPECT_TRUE(ok["h_1"]);
  EXPECT_FALSE(ok["h_bad"]);
  EXPECT_TRUE(ok["h_2"]);
  EXPECT_EQ(gc.stats().failures, 1u);
}

TEST(GroupCommit, UnavailableStoreFailsTheBatchWithoutRetries) {
  std::atomic<int> calls{0};
  GroupCommit gc(
      [&](const WriteBatch&) -> Status {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return Error(Errc::unavailable, "database down");
      },
      {std::chrono::milliseconds(50), 20000});
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 3; ++i)
    gc.submit(event_part("h_" + std::to_string(i), i), [&](const Status& st) {
      if (!st && st.error().code() == Errc::unavailable) ++unavailable;
    });
  gc.flush();
  EXPECT_EQ(unavailable.load(), 3);
  EXPECT_EQ(calls.load(), 1);  // the three parts went in one batch, and were not retried
}

TEST(GroupCommit, DestructorCommitsWhatIsQueued) {
  Recorder rec;
  std::atomic<int> done{0};
  {
    GroupCommit gc([&](const WriteBatch& b) { return rec.apply(b); }, {std::chrono::seconds(5), 20000});
    for (int i = 0; i < 10; ++i) gc.submit(event_part("h_1", i), [&](const Status&) { ++done; });
  }
  EXPECT_EQ(done.load(), 10);
  std::size_t rows = 0;
  for (const auto& b : rec.batches) rows += b.rows();
  EXPECT_EQ(rows, 10u);
}

}  // namespace
}  // namespace noreboot::server
