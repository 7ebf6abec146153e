// A minimal SQL connection layer under the store: one interface, two dialects.
//
// Problem: the store must run on SQLite (embedded default) and PostgreSQL (shared by several
// servers), with the same behaviour and the same tests. Writing every query twice would let
// the two drift. Approach: the store's logic (store_sql.cc) is written once against this
// narrow interface: parameterised statements (`?` placeholders, never string-built SQL, so
// "SQL-looking" input is just data), rows of nullable text cells, and transactions. Each
// backend maps it onto its C library (sqlite3, libpq) and reports a lost database as
// Errc::unavailable, which the HTTP layer turns into 503. Trade-off: the schema sticks to the
// common subset (TEXT, BIGINT, a blob type spelled per dialect, ON CONFLICT upserts) and
// every cell crosses as text; that costs a little parsing, which is nothing next to a round
// trip, and it keeps the two backends tiny.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::server {

// A statement parameter: NULL, an integer, text, or bytes (a blob / bytea).
struct SqlParam {
  enum class Kind { null, integer, text, blob } kind = Kind::null;
  std::int64_t i = 0;
  std::string s;
  static SqlParam null() { return {}; }
  static SqlParam blob(std::string bytes) { return {Kind::blob, 0, std::move(bytes)}; }
};
inline SqlParam sql_int(std::int64_t v) { return {SqlParam::Kind::integer, v, {}}; }
inline SqlParam sql_text(std::string v) { return {SqlParam::Kind::text, 0, std::move(v)}; }
inline SqlParam sql_opt_text(const std::string& v) { return v.empty() ? SqlParam::null() : sql_text(v); }

struct SqlRow {
  std::vector<std::optional<std::string>> cells;  // blobs arrive as raw bytes
  const std::string& text(std::size_t i) const;   // "" for NULL
  std::int64_t integer(std::size_t i) const;      // 0 for NULL
  bool is_null(std::size_t i) const { return !cells.at(i).has_value(); }
};

struct SqlResult {
  std::vector<SqlRow> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

enum class Dialect { sqlite, postgres };

// One connection. Not thread-safe; the pool hands it to one user at a time.
class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual Result<SqlResult> exec(std::string_view sql, const std::vector<SqlParam>& params = {}) = 0;
  virtual Dialect dialect() const = 0;
};

// A fixed set of connections shared by the server's threads.
class SqlPool {
 public:
  virtual ~SqlPool() = default;
  // Runs fn with a connection inside BEGIN ... COMMIT (ROLLBACK on error).
  virtual Status transaction(const std::function<Status(SqlConn&)>& fn) = 0;
  // Runs fn with a connection outside any explicit transaction (autocommit).
  virtual Status with_conn(const std::function<Status(SqlConn&)>& fn) = 0;
  virtual Dialect dialect() const = 0;
};

// A background listener; stops (and joins its thread) when destroyed.
class SqlListener {
 public:
  virtual ~SqlListener() = default;
};

// SQLite in WAL mode at `path` (created if missing).
Result<std::unique_ptr<SqlPool>> open_sqlite_pool(const std::string& path);
// PostgreSQL via a libpq connection string ("host=/tmp/x port=5432 dbname=noreboot").
Result<std::unique_ptr<SqlPool>> open_postgres_pool(const std::string& conninfo, int connections);
// LISTEN on `channel` over a connection of its own; calls on_notify(payload) from its thread
// for every notification, and on_notify("") after it (re)connects (it may have missed some).
// A lost database is retried every second, quietly, until it is back or the listener is
// destroyed.
std::unique_ptr<SqlListener> open_postgres_listener(const std::string& conninfo, const std::string& channel,
                                                    std::function<void(const std::string&)> on_notify);

}  // namespace noreboot::server
