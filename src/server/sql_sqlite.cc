// SQLite backend of the SQL layer (see sql.h): WAL journal, a busy timeout instead of
// SQLITE_BUSY failures, prepared statements with bound parameters only.
#include <sqlite3.h>

#include <unordered_map>

#include "server/sql_pool.h"

namespace noreboot::server {
namespace {

class SqliteConn final : public SqlConn {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }
  Dialect dialect() const override { return Dialect::sqlite; }

  Result<SqlResult> exec(std::string_view sql, const std::vector<SqlParam>& params) override {
    // Prepared statements are cached per SQL text (the store uses a small, fixed set).
    sqlite3_stmt* st = nullptr;
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
        return fail("prepare");
      cache_.emplace(key, st);
    }
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{st};
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      int idx = static_cast<int>(i + 1), rc = SQLITE_OK;
      switch (p.kind) {
        case SqlParam::Kind::null: rc = sqlite3_bind_null(st, idx); break;
        case SqlParam::Kind::integer: rc = sqlite3_bind_int64(st, idx, p.i); break;
        case SqlParam::Kind::text:
          rc = sqlite3_bind_text(st, idx, p.s.data(), static_cast<int>(p.s.size()), SQLITE_TRANSIENT);
          break;
        case SqlParam::Kind::blob:
          rc = sqlite3_bind_blob64(st, idx, p.s.data(), p.s.size(), SQLITE_TRANSIENT);
          break;
      }
      if (rc != SQLITE_OK) return fail("bind");
    }
    SqlResult out;
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fail("step");
      SqlRow row;
      int n = sqlite3_column_count(st);
      row.cells.reserve(n);
      for (int c = 0; c < n; ++c) {
        int type = sqlite3_column_type(st, c);
        if (type == SQLITE_NULL) {
          row.cells.emplace_back(std::nullopt);
        } else if (type == SQLITE_BLOB) {
          auto* b = static_cast<const char*>(sqlite3_column_blob(st, c));
          row.cells.emplace_back(std::string(b ? b : "", sqlite3_column_bytes(st, c)));
        } else {
          auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.cells.emplace_back(std::string(t ? t : "", sqlite3_column_bytes(st, c)));
        }
      }
      out.rows.push_back(std::move(row));
    }
    out.affected = sqlite3_changes(db_);
    return out;
  }

 private:
  Error fail(const char* what) {
    int code = sqlite3_errcode(db_);
    Errc errc = (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
                 code == SQLITE_FULL || code == SQLITE_CANTOPEN)
                    ? Errc::unavailable
                    : (code == SQLITE_CONSTRAINT ? Errc::conflict : Errc::internal);
    return Error(errc, std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlPool>> open_sqlite_pool(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Error(Errc::unavailable, "sqlite open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  auto conn = std::make_unique<SqliteConn>(db);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA foreign_keys=ON"}) {
    auto r = conn->exec(pragma, {});
    if (!r) return std::move(r).error().context(path);
  }
  std::vector<std::unique_ptr<SqlConn>> conns;
  conns.push_back(std::move(conn));
  return std::unique_ptr<SqlPool>(std::make_unique<FixedPool>(std::move(conns), Dialect::sqlite));
}

}  // namespace noreboot::server
