// GroupCommit: the writes of many requests, one transaction.
//
// Problem: publish-to-applied across 10,000 agents took 26 s (p99) because every answered
// agent cost about five statements, each its own transaction (a WAL append and two file
// locks on SQLite, a round trip and a commit on PostgreSQL), serialised on one connection.
// The profile of one 5,000-agent run: 40 % of the server's CPU in sqlite3_step, most of it
// committing (WAL frames, fcntl locks, checkpoints with fdatasync).
//
// Approach: request handlers do not write. They describe their writes as a WriteBatch part
// and hand it here with a completion callback. One committer thread takes everything queued
// (after waiting `linger` for more to arrive, unless `max_rows` are already waiting or a
// flush is asked for), applies it with Store::apply_writes (one transaction, multi-row
// statements) and then calls every part's callback with the outcome. Handlers answer the
// HTTP request from that callback, so an agent is told "accepted" (or is sent an offer) only
// after the write is committed: a server killed at any moment has acknowledged nothing it
// lost. While one batch commits the next one fills, so the batch size follows the load.
//
// Trade-off: a write waits for up to `linger` plus one commit (milliseconds) before its
// request is answered; in exchange a thousand writers cost one commit. Parts are independent:
// when a batch fails for any reason but an unavailable store, each part is retried alone, so
// one bad part cannot fail its neighbours. Callbacks run on the committer thread, in
// submission order, and must be short (post a response, update a cache) and must not call
// flush().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "server/store.h"

namespace noreboot::server {

class GroupCommit {
 public:
  using Done = std::function<void(const Status&)>;
  struct Options {
    std::chrono::microseconds linger{2000};  // wait this long for more parts after the first
    std::size_t max_rows = 20000;            // commit at once when this many rows wait
  };
  struct Stats {
    std::uint64_t commits = 0;     // transactions run
    std::uint64_t parts = 0;       // parts committed (one per request, roughly)
    std::uint64_t rows = 0;        // rows written
    std::uint64_t failures = 0;    // parts answered with an error
    std::uint64_t largest = 0;     // most rows in one transaction
    double commit_seconds = 0;     // time spent in apply_writes
  };

  // `apply` commits one batch (Store::apply_writes in the server; a fake in tests).
  using Apply = std::function<Status(const WriteBatch&)>;
  GroupCommit(Apply apply, Options options);
  ~GroupCommit();  // commits what is queued, runs its callbacks, then stops
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues `part`; `done` runs on the committer thread once it is committed (or failed).
  void submit(WriteBatch part, Done done);
  // Returns once everything submitted before the call is committed and its callbacks ran.
  void flush();
  // Parts submitted and not yet answered.
  std::size_t pending() const;
  Stats stats() const;

 private:
  struct Part {
    std::uint64_t seq;
    WriteBatch batch;
    Done done;
  };
  void run();
  void commit(std::deque<Part>& parts);

  Apply apply_;
  Options opt_;
  mutable std::mutex mu_;
  std::condition_variable wake_;     // the committer: work arrived, flush asked, stop
  std::condition_variable flushed_;  // flushers: done_seq_ moved
  std::deque<Part> queue_;
  std::size_t queued_rows_ = 0;
  std::uint64_t next_seq_ = 1;       // seq of the next submitted part
  std::uint64_t done_seq_ = 0;       // every part with seq <= this has been answered
  int flushers_ = 0;
  bool stop_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace noreboot::server
