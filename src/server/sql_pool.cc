// The generic connection pool and row helpers shared by both SQL backends (see sql.h).
#include "server/sql_pool.h"

#include "core/numbers.h"

namespace noreboot::server {

const std::string& SqlRow::text(std::size_t i) const {
  static const std::string empty;
  const auto& c = cells.at(i);
  return c ? *c : empty;
}

// Both backends print INTEGER columns and integer aggregates as plain decimal text. NULL, ""
// and anything that is not a whole number read as 0, as a missing count would.
std::int64_t SqlRow::integer(std::size_t i) const {
  const auto& c = cells.at(i);
  if (!c) return 0;
  return parse_signed_decimal(*c).value_or(0);
}

FixedPool::FixedPool(std::vector<std::unique_ptr<SqlConn>> conns, Dialect dialect)
    : dialect_(dialect) {
  for (auto& c : conns) free_.push_back(std::move(c));
}

std::unique_ptr<SqlConn> FixedPool::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  auto c = std::move(free_.back());
  free_.pop_back();
  return c;
}

void FixedPool::give(std::unique_ptr<SqlConn> c) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
  }
  cv_.notify_one();
}

Status FixedPool::with_conn(const std::function<Status(SqlConn&)>& fn) {
  auto c = take();
  Status st = fn(*c);
  give(std::move(c));
  return st;
}

Status FixedPool::transaction(const std::function<Status(SqlConn&)>& fn) {
  auto c = take();
  Status st = [&]() -> Status {
    // SQLite: IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
    auto begin = c->exec(dialect_ == Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    if (!begin) return std::move(begin).error();
    Status inner = fn(*c);
    if (!inner) {
      (void)c->exec("ROLLBACK");
      return inner;
    }
    auto commit = c->exec("COMMIT");
    if (!commit) {
      (void)c->exec("ROLLBACK");
      return std::move(commit).error();
    }
    return ok_status();
  }();
  give(std::move(c));
  return st;
}

}  // namespace noreboot::server
