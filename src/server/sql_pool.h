// FixedPool: a fixed set of SqlConn handed out one user at a time (see sql.h).
#pragma once

#include <condition_variable>
#include <mutex>

#include "server/sql.h"

namespace noreboot::server {

class FixedPool final : public SqlPool {
 public:
  FixedPool(std::vector<std::unique_ptr<SqlConn>> conns, Dialect dialect);
  Status transaction(const std::function<Status(SqlConn&)>& fn) override;
  Status with_conn(const std::function<Status(SqlConn&)>& fn) override;
  Dialect dialect() const override { return dialect_; }

 private:
  std::unique_ptr<SqlConn> take();
  void give(std::unique_ptr<SqlConn> c);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConn>> free_;
  Dialect dialect_;
};

}  // namespace noreboot::server
