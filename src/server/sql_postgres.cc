// PostgreSQL backend of the SQL layer (see sql.h), over libpq.
//
// `?` placeholders are rewritten to `$1..$n` (the store's SQL never has `?` inside a string
// literal). Parameters go as text, blobs as binary bytea; results come back in text format,
// where bytea is "\x<hex>" and is decoded here. A broken connection is reset once and the
// statement reported as Errc::unavailable, so the HTTP layer answers 503 and agents back off.
// A connection closed by the database while idle (a restart) is noticed and reopened before
// the next statement is sent on it.
#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/bytes.h"
#include "core/log.h"
#include "core/numbers.h"
#include "server/sql_pool.h"

namespace noreboot::server {
namespace {

std::string rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (char c : sql) {
    if (c == '?') out += "$" + std::to_string(++n);
    else out += c;
  }
  return out;
}


class PgConn final : public SqlConn {
 public:
  explicit PgConn(PGconn* c) : c_(c) {}
  ~PgConn() override { PQfinish(c_); }
  Dialect dialect() const override { return Dialect::postgres; }

  Result<SqlResult> exec(std::string_view sql, const std::vector<SqlParam>& params) override {
    // A connection the database closed while it sat idle in the pool (a restart) has its
    // goodbye waiting on the socket: read it now, so the statement goes out on a fresh
    // connection instead of failing on the dead one.
    for (int i = 0; i < 4 && PQstatus(c_) == CONNECTION_OK; ++i) {  // the error message, then EOF
      pollfd p{PQsocket(c_), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0 || !PQconsumeInput(c_)) break;
    }
    if (PQstatus(c_) != CONNECTION_OK) {
      PQreset(c_);
      if (PQstatus(c_) != CONNECTION_OK)
        return Error(Errc::unavailable, std::string("postgres: connection lost: ") + PQerrorMessage(c_));
    }
    std::string q = rewrite_placeholders(sql);
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    std::vector<std::string> ints(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      switch (p.kind) {
        case SqlParam::Kind::null: values[i] = nullptr; break;
        case SqlParam::Kind::integer:
          ints[i] = std::to_string(p.i);
          values[i] = ints[i].c_str();
          break;
        case SqlParam::Kind::text: values[i] = p.s.c_str(); break;
        case SqlParam::Kind::blob:
          values[i] = p.s.data();
          lengths[i] = static_cast<int>(p.s.size());
          formats[i] = 1;
          break;
      }
    }
    PGresult* r = PQexecParams(c_, q.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), formats.data(), 0);
    struct Clear { PGresult* r; ~Clear() { PQclear(r); } } clear{r};
    auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      std::string msg = std::string("postgres: ") + PQerrorMessage(c_);
      if (PQstatus(c_) != CONNECTION_OK) {
        PQreset(c_);
        return Error(Errc::unavailable, msg);
      }
      if (state && std::string_view(state).substr(0, 2) == "23") return Error(Errc::conflict, msg);
      if (state && (std::string_view(state).substr(0, 2) == "08" ||
                    std::string_view(state).substr(0, 2) == "57"))
        return Error(Errc::unavailable, msg);
      return Error(Errc::internal, msg);
    }
    SqlResult out;
    int rows = PQntuples(r), cols = PQnfields(r);
    out.rows.reserve(rows);
    for (int i = 0; i < rows; ++i) {
      SqlRow row;
      row.cells.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(r, i, c)) { row.cells.emplace_back(std::nullopt); continue; }
        const char* v = PQgetvalue(r, i, c);
        int len = PQgetlength(r, i, c);
        if (PQftype(r, c) == 17 /* bytea */ && len >= 2 && v[0] == '\\' && v[1] == 'x') {
          // PostgreSQL's bytea hex output: "\\x" then two lowercase digits a byte.
          auto bytes = from_hex(std::string_view(v + 2, static_cast<std::size_t>(len - 2)));
          if (!bytes) return Error(Errc::internal, "PostgreSQL sent a bytea value that is not hex: " + bytes.error().message());
          row.cells.emplace_back(std::string(as_chars(*bytes)));
        } else {
          row.cells.emplace_back(std::string(v, len));
        }
      }
      out.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(r);
    // PQcmdTuples: the row count of an INSERT/UPDATE/DELETE as digits, "" for other commands.
    auto affected = parse_decimal(tuples ? tuples : "");
    out.affected = affected ? static_cast<std::int64_t>(*affected) : 0;
    return out;
  }

 private:
  PGconn* c_;
};

// LISTEN on a connection of its own. One thread waits (poll) on the connection's socket and
// an eventfd that the destructor signals; a notification is read with PQconsumeInput and
// PQnotifies. A broken connection is reopened every second until the database is back.
class PgListener final : public SqlListener {
 public:
  PgListener(std::string conninfo, std::string channel, std::function<void(const std::string&)> on_notify)
      : conninfo_(std::move(conninfo)), channel_(std::move(channel)), on_notify_(std::move(on_notify)),
        stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { run(); });
  }
  ~PgListener() override {
    stop_ = true;
    std::uint64_t one = 1;
    if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof one);
    thread_.join();
    if (conn_) PQfinish(conn_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
  }

 private:
  // Waits up to `ms` for the socket (fd >= 0) or the stop signal. Returns true when fd is readable.
  bool wait(int fd, int ms) {
    pollfd p[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    int n = ::poll(p, fd >= 0 ? 2 : 1, ms);
    return n > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  }

  bool connect() {
    if (conn_) PQfinish(conn_);
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) return false;
    char* ident = PQescapeIdentifier(conn_, channel_.c_str(), channel_.size());
    std::string sql = std::string("LISTEN ") + (ident ? ident : "noreboot_changes");
    if (ident) PQfreemem(ident);
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }

  void run() {
    bool down = false;  // lost (or never had) the connection and said so
    while (!stop_) {
      if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
        if (conn_ && !down) {
          log::warn("postgres listener: connection lost; reconnecting every second");
          down = true;
        }
        if (!connect()) {
          if (!down) log::warn("postgres listener: {}; retrying every second", PQerrorMessage(conn_));
          down = true;
          wait(-1, 1000);
          continue;
        }
        if (down) log::info("postgres listener: connected again");
        down = false;
        on_notify_("");  // notifications sent while we were away are lost: reload anyway
      }
      if (!wait(PQsocket(conn_), 1000)) continue;
      if (!PQconsumeInput(conn_)) {  // broken: reconnect above
        PQfinish(conn_);
        conn_ = nullptr;
        if (!down) log::warn("postgres listener: connection lost; reconnecting every second");
        down = true;
        continue;
      }
      while (PGnotify* n = PQnotifies(conn_)) {
        std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        on_notify_(payload);
      }
    }
  }

  std::string conninfo_, channel_;
  std::function<void(const std::string&)> on_notify_;
  int stop_fd_;
  std::atomic<bool> stop_{false};
  PGconn* conn_ = nullptr;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<SqlListener> open_postgres_listener(const std::string& conninfo, const std::string& channel,
                                                    std::function<void(const std::string&)> on_notify) {
  return std::make_unique<PgListener>(conninfo, channel, std::move(on_notify));
}

Result<std::unique_ptr<SqlPool>> open_postgres_pool(const std::string& conninfo, int connections) {
  std::vector<std::unique_ptr<SqlConn>> conns;
  for (int i = 0; i < std::max(1, connections); ++i) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c);
      PQfinish(c);
      return Error(Errc::unavailable, "postgres connect (" + conninfo + "): " + msg);
    }
    auto conn = std::make_unique<PgConn>(c);
    auto r = conn->exec("SET client_min_messages TO WARNING", {});
    if (!r) return std::move(r).error();
    conns.push_back(std::move(conn));
  }
  return std::unique_ptr<SqlPool>(std::make_unique<FixedPool>(std::move(conns), Dialect::postgres));
}

}  // namespace noreboot::server
