// PostgreSQL backend of the SQL layer (see sql.h), over libpq.
//
// `?` placeholders are rewritten to `$1..$n` (the store's SQL never has `?` inside a string
// literal). Parameters go as text, blobs as binary bytea; results come back in text format,
// where bytea is "\x<hex>" and is decoded here. A broken connection is reset once and the
// statement reported as Errc::unavailable, so the HTTP layer answers 503 and agents back off.
#include <libpq-fe.h>

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

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

class PgConn final : public SqlConn {
 public:
  explicit PgConn(PGconn* c) : c_(c) {}
  ~PgConn() override { PQfinish(c_); }
  Dialect dialect() const override { return Dialect::postgres; }

  Result<SqlResult> exec(std::string_view sql, const std::vector<SqlParam>& params) override {
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
          std::string bytes;
          bytes.reserve((len - 2) / 2);
          for (int k = 2; k + 1 < len; k += 2)
            bytes.push_back(static_cast<char>(hexval(v[k]) << 4 | hexval(v[k + 1])));
          row.cells.emplace_back(std::move(bytes));
        } else {
          row.cells.emplace_back(std::string(v, len));
        }
      }
      out.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(r);
    out.affected = (tuples && *tuples) ? std::stoll(tuples) : 0;
    return out;
  }

 private:
  PGconn* c_;
};

}  // namespace

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
