// GroupCommit (see group_commit.h for the design).
#include "server/group_commit.h"

#include "core/log.h"

namespace noreboot::server {

GroupCommit::GroupCommit(Apply apply, Options options) : apply_(std::move(apply)), opt_(options) {
  thread_ = std::thread([this] { run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void GroupCommit::submit(WriteBatch part, Done done) {
  {
    std::lock_guard lock(mu_);
    queued_rows_ += part.rows();
    queue_.push_back({next_seq_++, std::move(part), std::move(done)});
  }
  wake_.notify_one();
}

void GroupCommit::flush() {
  std::unique_lock lock(mu_);
  std::uint64_t target = next_seq_ - 1;
  if (done_seq_ >= target) return;
  ++flushers_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_seq_ >= target; });
  --flushers_;
}

std::size_t GroupCommit::pending() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(next_seq_ - 1 - done_seq_);
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void GroupCommit::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    // Let more parts join, unless the batch is already big, someone waits or we stop.
    auto until = std::chrono::steady_clock::now() + opt_.linger;
    wake_.wait_until(lock, until, [&] { return stop_ || flushers_ > 0 || queued_rows_ >= opt_.max_rows; });
    std::deque<Part> parts;
    std::size_t rows = 0;
    while (!queue_.empty() && (parts.empty() || rows < opt_.max_rows)) {
      rows += queue_.front().batch.rows();
      parts.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_rows_ -= rows;
    lock.unlock();
    commit(parts);
    lock.lock();
    done_seq_ = parts.back().seq;
    flushed_.notify_all();
  }
}

void GroupCommit::commit(std::deque<Part>& parts) {
  WriteBatch all;
  std::size_t rows = 0;
  if (parts.size() == 1) {
    rows = parts.front().batch.rows();
  } else {
    for (auto& p : parts) {
      rows += p.batch.rows();
      WriteBatch copy = p.batch;  // kept for a part-by-part retry
      all.append(std::move(copy));
    }
  }
  const WriteBatch& batch = parts.size() == 1 ? parts.front().batch : all;
  auto started = std::chrono::steady_clock::now();
  Status st = apply_(batch);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<Status> results(parts.size(), st);
  if (!st && parts.size() > 1 && st.error().code() != Errc::unavailable) {
    log::warn("group commit of {} parts failed ({}); retrying them one by one", parts.size(), st.error().message());
    for (std::size_t i = 0; i < parts.size(); ++i) results[i] = apply_(parts[i].batch);
  }
  std::uint64_t failures = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!results[i]) ++failures;
    if (parts[i].done) parts[i].done(results[i]);
  }
  std::lock_guard lock(mu_);
  stats_.commits++;
  stats_.parts += parts.size();
  stats_.rows += rows;
  stats_.failures += failures;
  stats_.largest = std::max<std::uint64_t>(stats_.largest, rows);
  stats_.commit_seconds += seconds;
}

}  // namespace noreboot::server
