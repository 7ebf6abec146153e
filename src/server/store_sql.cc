// The Store on top of the SQL layer: one implementation for SQLite and PostgreSQL.
//
// Schema migrations are a numbered list; migrate() applies the missing ones in a transaction
// (on PostgreSQL under an advisory lock, so servers starting together migrate once). Lists
// (tags, groups, stages) are stored as JSON text: they are read whole and never queried into.
// Column names avoid words reserved in either dialect (group -> grp, window -> mwindow).
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "core/failpoint.h"
#include "server/sql.h"
#include "server/store.h"

namespace noreboot::server {
namespace {

using nlohmann::json;

struct Migration {
  int version;
  std::vector<std::string> statements;  // {blob} and {serial} are replaced per dialect
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1,
       {"CREATE TABLE bundles (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, patch_name TEXT NOT NULL,"
        " sequence BIGINT NOT NULL, kernel_release TEXT NOT NULL, kernel_build_id TEXT NOT NULL,"
        " arch TEXT NOT NULL, created_at BIGINT NOT NULL, blocked BIGINT NOT NULL DEFAULT 0,"
        " blocked_reason TEXT NOT NULL DEFAULT '')",
        "CREATE TABLE bundle_content (sha256 TEXT PRIMARY KEY REFERENCES bundles(sha256),"
        " content {blob} NOT NULL)",
        "CREATE TABLE tokens (id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
        " role TEXT NOT NULL, name TEXT NOT NULL, grp TEXT NOT NULL, tags TEXT NOT NULL,"
        " expires_at BIGINT NOT NULL, max_uses BIGINT NOT NULL, uses BIGINT NOT NULL,"
        " revoked BIGINT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE hosts (id TEXT PRIMARY KEY, credential_hash TEXT NOT NULL UNIQUE,"
        " hostname TEXT NOT NULL, grp TEXT NOT NULL, tags TEXT NOT NULL, k_release TEXT NOT NULL,"
        " k_version TEXT NOT NULL, k_build_id TEXT NOT NULL, k_arch TEXT NOT NULL, state TEXT NOT NULL,"
        " a_name TEXT, a_sequence BIGINT, a_sha256 TEXT, last_seen BIGINT NOT NULL,"
        " enrolled_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX hosts_build ON hosts(k_build_id)",
        "CREATE TABLE host_events (id {serial}, host_id TEXT NOT NULL, time BIGINT NOT NULL,"
        " kind TEXT NOT NULL, detail TEXT NOT NULL)",
        "CREATE INDEX host_events_host ON host_events(host_id, id)",
        "CREATE TABLE host_bundle (host_id TEXT NOT NULL, sha256 TEXT NOT NULL, outcome TEXT NOT NULL,"
        " updated_at BIGINT NOT NULL, PRIMARY KEY (host_id, sha256))",
        "CREATE INDEX host_bundle_sha ON host_bundle(sha256, outcome)",
        "CREATE TABLE rollouts (id TEXT PRIMARY KEY, bundle_sha256 TEXT NOT NULL, groups TEXT NOT NULL,"
        " tags TEXT NOT NULL, stages TEXT NOT NULL, mwindow TEXT NOT NULL, state TEXT NOT NULL,"
        " current_stage BIGINT NOT NULL, stage_started_at BIGINT NOT NULL, created_at BIGINT NOT NULL,"
        " halt_reason TEXT NOT NULL)",
        "CREATE TABLE pins (grp TEXT PRIMARY KEY, bundle_sha256 TEXT NOT NULL, until_time BIGINT NOT NULL)",
        "CREATE TABLE audit (id {serial}, time BIGINT NOT NULL, actor TEXT NOT NULL,"
        " action TEXT NOT NULL, detail TEXT NOT NULL)"}},
      // 2: a resumed rollout counts failures from its resume on.
      {2, {"ALTER TABLE rollouts ADD COLUMN failure_baseline BIGINT NOT NULL DEFAULT 0"}},
      // 3: fixes as first-class objects (signed fix records) and the fix ids each bundle
      // carries. Existing bundles keep fix_ids NULL ("not read yet"): the API reads them from
      // the stored bundle bytes on first use, so nothing published before is lost.
      {3,
       {"ALTER TABLE bundles ADD COLUMN fix_ids TEXT",
        "CREATE TABLE fix_records (sha256 TEXT PRIMARY KEY, record TEXT NOT NULL, signature TEXT NOT NULL,"
        " signer TEXT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE fixes (id TEXT PRIMARY KEY, description TEXT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE fix_kernels (fix_id TEXT NOT NULL, k_release TEXT NOT NULL, k_version TEXT NOT NULL,"
        " outcome TEXT NOT NULL, bundle_sha256 TEXT NOT NULL, k_build_id TEXT NOT NULL, sequence BIGINT NOT NULL,"
        " reason TEXT NOT NULL, record_sha256 TEXT NOT NULL, PRIMARY KEY (fix_id, k_release))",
        // A fix rollout offers the fix's bundles (one per kernel); bundle rollouts keep ''/[].
        "ALTER TABLE rollouts ADD COLUMN fix_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE rollouts ADD COLUMN bundles TEXT NOT NULL DEFAULT '[]'"}},
  };
  return list;
}

std::string dialect_sql(std::string s, Dialect d) {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
      s.replace(pos, from.size(), to);
  };
  replace("{blob}", d == Dialect::sqlite ? "BLOB" : "BYTEA");
  replace("{serial}", d == Dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY");
  return s;
}

std::string list_json(const std::vector<std::string>& v) { return json(v).dump(); }
std::vector<std::string> parse_list(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string stages_json(const std::vector<api::Stage>& stages) {
  json a = json::array();
  for (const auto& s : stages)
    a.push_back({{"percent", s.percent}, {"soak_seconds", s.soak_seconds}, {"failure_budget", s.failure_budget}});
  return a.dump();
}
std::vector<api::Stage> parse_stages(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  std::vector<api::Stage> out;
  if (j.is_array())
    for (const auto& e : j)
      out.push_back({e.value("percent", 0.0), e.value("soak_seconds", std::int64_t{0}),
                     e.value("failure_budget", std::int64_t{0})});
  return out;
}

RolloutState parse_rollout_state(const std::string& s) {
  if (s == "halted") return RolloutState::halted;
  if (s == "completed") return RolloutState::completed;
  if (s == "awaiting_approval") return RolloutState::awaiting_approval;
  return RolloutState::running;
}

constexpr const char* kBundleCols =
    "sha256, size, patch_name, sequence, kernel_release, kernel_build_id, arch, created_at, blocked, blocked_reason,"
    " fix_ids";
BundleRecord bundle_from(const SqlRow& r) {
  BundleRecord b{r.text(0), r.integer(1), r.text(2), r.integer(3), r.text(4), r.text(5), r.text(6),
                 r.integer(7), r.integer(8) != 0, r.text(9), std::nullopt};
  if (!r.is_null(10)) b.fix_ids = parse_list(r.text(10));
  return b;
}

constexpr const char* kFixKernelCols =
    "fix_id, k_release, k_version, outcome, bundle_sha256, k_build_id, sequence, reason, record_sha256";
FixKernelRow fix_kernel_from(const SqlRow& r) {
  return {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.integer(6), r.text(7), r.text(8)};
}

constexpr const char* kTokenCols =
    "id, kind, role, name, grp, tags, expires_at, max_uses, uses, revoked, created_at";
TokenRecord token_from(const SqlRow& r) {
  TokenRecord t;
  t.id = r.text(0); t.kind = r.text(1); t.role = r.text(2); t.name = r.text(3); t.group = r.text(4);
  t.tags = parse_list(r.text(5)); t.expires_at = r.integer(6); t.max_uses = r.integer(7);
  t.uses = r.integer(8); t.revoked = r.integer(9) != 0; t.created_at = r.integer(10);
  return t;
}

constexpr const char* kHostCols =
    "id, hostname, grp, tags, k_release, k_version, k_build_id, k_arch, state, a_name, a_sequence,"
    " a_sha256, last_seen, enrolled_at, last_error";
HostRecord host_from(const SqlRow& r) {
  HostRecord h;
  h.id = r.text(0); h.hostname = r.text(1); h.group = r.text(2); h.tags = parse_list(r.text(3));
  h.kernel = {r.text(4), r.text(5), r.text(6), r.text(7)};
  h.state = r.text(8);
  if (!r.is_null(9)) h.applied = api::AppliedPatch{r.text(9), static_cast<std::uint64_t>(r.integer(10)), r.text(11)};
  h.last_seen = r.integer(12); h.enrolled_at = r.integer(13); h.last_error = r.text(14);
  return h;
}

constexpr const char* kRolloutCols =
    "id, bundle_sha256, groups, tags, stages, mwindow, state, current_stage, stage_started_at,"
    " created_at, halt_reason, failure_baseline, fix_id, bundles";
RolloutRecord rollout_from(const SqlRow& r) {
  RolloutRecord o;
  o.id = r.text(0); o.bundle_sha256 = r.text(1); o.groups = parse_list(r.text(2));
  o.tags = parse_list(r.text(3)); o.stages = parse_stages(r.text(4));
  if (!r.text(5).empty()) {
    auto w = api::parse_window(r.text(5));
    if (w) o.window = *w;
  }
  o.state = parse_rollout_state(r.text(6)); o.current_stage = static_cast<int>(r.integer(7));
  o.stage_started_at = r.integer(8); o.created_at = r.integer(9); o.halt_reason = r.text(10);
  o.failure_baseline = r.integer(11);
  o.fix_id = r.text(12);
  o.bundles = parse_list(r.text(13));
  return o;
}

// Runs one multi-row statement per chunk: `head` + n copies of `row` + `tail`, with
// `params(i, out)` appending the parameters of row i. Chunk sizes are powers of two up to
// 256, so each backend sees at most nine statement texts per kind (SQLite caches them
// prepared) and no statement comes near either dialect's parameter limit.
template <typename F>
Status multi_row(SqlConn& c, std::string_view head, std::string_view row, std::string_view tail,
                 std::size_t count, F&& params) {
  std::size_t i = 0;
  while (i < count) {
    std::size_t n = 256;
    while (n > count - i) n /= 2;
    std::string sql(head);
    sql.reserve(head.size() + n * (row.size() + 2) + tail.size());
    std::vector<SqlParam> p;
    for (std::size_t k = 0; k < n; ++k) {
      if (k) sql += ", ";
      sql += row;
      params(i + k, p);
    }
    sql += tail;
    NR_TRY_STATUS(c.exec(sql, p));
    i += n;
  }
  return ok_status();
}

constexpr const char* kChangeChannel = "noreboot_changes";

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlPool> pool, std::string pg_conninfo = "")
      : pool_(std::move(pool)), pg_conninfo_(std::move(pg_conninfo)) {}

  Status notify_change(const std::string& origin) override {
    if (pool_->dialect() != Dialect::postgres) return ok_status();
    NR_TRY_STATUS(q("SELECT pg_notify(?, ?)", {sql_text(kChangeChannel), sql_text(origin)}));
    return ok_status();
  }

  std::unique_ptr<ChangeListener> listen_changes(std::function<void(const std::string&)> on_change) override {
    if (pool_->dialect() != Dialect::postgres) return nullptr;
    struct Wrap final : ChangeListener {
      std::unique_ptr<SqlListener> inner;
    };
    auto w = std::make_unique<Wrap>();
    w->inner = open_postgres_listener(pg_conninfo_, kChangeChannel, std::move(on_change));
    return w;
  }

  Status migrate() {
    Dialect d = pool_->dialect();
    return pool_->transaction([&](SqlConn& c) -> Status {
      if (d == Dialect::postgres) NR_TRY_STATUS(c.exec("SELECT pg_advisory_xact_lock(7702001)"));
      NR_TRY_STATUS(c.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"));
      NR_TRY(auto cur, c.exec("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
      std::int64_t have = cur.rows.empty() ? 0 : cur.rows[0].integer(0);
      for (const auto& m : migrations()) {
        if (m.version <= have) continue;
        for (const auto& s : m.statements) {
          auto r = c.exec(dialect_sql(s, d));
          if (!r) return std::move(r).error().context("schema migration " + std::to_string(m.version));
        }
        NR_TRY_STATUS(c.exec("INSERT INTO schema_version (version) VALUES (?)", {sql_int(m.version)}));
      }
      if (have > migrations().back().version)
        return Error(Errc::unsupported, "store schema version " + std::to_string(have) +
                                            " is newer than this server knows (" +
                                            std::to_string(migrations().back().version) +
                                            "): upgrade noreboot-server");
      return ok_status();
    });
  }

  // One statement in autocommit mode.
  Result<SqlResult> q(std::string_view sql, std::vector<SqlParam> params = {}) {
    std::optional<SqlResult> out;
    Status st = pool_->with_conn([&](SqlConn& c) -> Status {
      NR_TRY(auto r, c.exec(sql, params));
      out = std::move(r);
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return std::move(*out);
  }

  Status ping() override { NR_TRY_STATUS(q("SELECT 1")); return ok_status(); }

  Result<int> schema_version() override {
    NR_TRY(auto r, q("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    return static_cast<int>(r.rows.at(0).integer(0));
  }

  // ---- bundles
  Result<bool> put_bundle(const BundleRecord& b, const std::string& content) override {
    bool created = false;
    Status st = pool_->transaction([&](SqlConn& c) -> Status {
      NR_TRY(auto r, c.exec("SELECT 1 FROM bundles WHERE sha256 = ?", {sql_text(b.sha256)}));
      if (!r.rows.empty()) return ok_status();
      NR_TRY_STATUS(c.exec(std::string("INSERT INTO bundles (") + kBundleCols +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           {sql_text(b.sha256), sql_int(b.size), sql_text(b.patch_name),
                            sql_int(b.sequence), sql_text(b.kernel_release), sql_text(b.kernel_build_id),
                            sql_text(b.arch), sql_int(b.created_at), sql_int(b.blocked ? 1 : 0),
                            sql_text(b.blocked_reason),
                            b.fix_ids ? sql_text(list_json(*b.fix_ids)) : SqlParam::null()}));
      NR_TRY_STATUS(c.exec("INSERT INTO bundle_content (sha256, content) VALUES (?, ?)",
                           {sql_text(b.sha256), SqlParam::blob(content)}));
      created = true;
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return created;
  }

  Result<std::optional<BundleRecord>> get_bundle(const std::string& sha) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kBundleCols + " FROM bundles WHERE sha256 = ?", {sql_text(sha)}));
    if (r.rows.empty()) return std::optional<BundleRecord>();
    return std::optional<BundleRecord>(bundle_from(r.rows[0]));
  }

  Result<std::optional<std::string>> get_bundle_content(const std::string& sha) override {
    NR_TRY(auto r, q("SELECT content FROM bundle_content WHERE sha256 = ?", {sql_text(sha)}));
    if (r.rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r.rows[0].text(0));
  }

  Result<std::vector<BundleRecord>> list_bundles() override {
    NR_TRY(auto r, q(std::string("SELECT ") + kBundleCols + " FROM bundles ORDER BY created_at, sha256"));
    std::vector<BundleRecord> out;
    for (const auto& row : r.rows) out.push_back(bundle_from(row));
    return out;
  }

  Status set_bundle_blocked(const std::string& sha, bool blocked, const std::string& reason) override {
    NR_TRY_STATUS(q("UPDATE bundles SET blocked = ?, blocked_reason = ? WHERE sha256 = ?",
                    {sql_int(blocked ? 1 : 0), sql_text(reason), sql_text(sha)}));
    return ok_status();
  }

  Status set_bundle_fix_ids(const std::string& sha, const std::vector<std::string>& ids) override {
    NR_TRY_STATUS(q("UPDATE bundles SET fix_ids = ? WHERE sha256 = ?", {sql_text(list_json(ids)), sql_text(sha)}));
    return ok_status();
  }

  // ---- fix records
  Result<bool> put_fix_record(const StoredFixRecord& rec) override {
    bool created = false;
    Status st = pool_->transaction([&](SqlConn& c) -> Status {
      NR_TRY(auto have, c.exec("SELECT 1 FROM fix_records WHERE sha256 = ?", {sql_text(rec.sha256)}));
      if (!have.rows.empty()) return ok_status();
      for (const auto& f : rec.fixes) {
        NR_TRY(auto r, c.exec("SELECT description FROM fixes WHERE id = ?", {sql_text(f.id)}));
        if (!r.rows.empty() && r.rows[0].text(0) != f.description)
          return Error(Errc::conflict, "fix " + f.id + ": the stored records describe it as '" +
                                           r.rows[0].text(0).substr(0, 200) + "', this record as '" +
                                           f.description.substr(0, 200) + "'");
      }
      std::vector<const FixKernelRow*> fresh, upgraded;
      for (const auto& k : rec.kernels) {
        NR_TRY(auto r, c.exec(std::string("SELECT ") + kFixKernelCols + " FROM fix_kernels WHERE fix_id = ? AND k_release = ?",
                              {sql_text(k.fix_id), sql_text(k.release)}));
        if (r.rows.empty()) {
          fresh.push_back(&k);
          continue;
        }
        FixKernelRow old = fix_kernel_from(r.rows[0]);
        if (old.upgraded_by(k)) {
          upgraded.push_back(&k);
          continue;
        }
        if (!old.agrees(k)) {
          auto say = [](const FixKernelRow& x) {
            return x.outcome + (x.bundle_sha256.empty() ? "" : " with bundle " + x.bundle_sha256) + " (Debian " + x.version + ")";
          };
          return Error(Errc::conflict, "fix " + k.fix_id + ", kernel " + k.release + ": stored record " + old.record_sha256 +
                                           " says " + say(old) + ", this record says " + say(k) +
                                           "; records of one fix must agree on every kernel both name");
        }
      }
      NR_TRY_STATUS(c.exec("INSERT INTO fix_records (sha256, record, signature, signer, created_at) VALUES (?, ?, ?, ?, ?)",
                           {sql_text(rec.sha256), sql_text(rec.record), sql_text(rec.signature),
                            sql_text(rec.signer_key_id), sql_int(rec.created_at)}));
      for (const auto& f : rec.fixes)
        NR_TRY_STATUS(c.exec("INSERT INTO fixes (id, description, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                             {sql_text(f.id), sql_text(f.description), sql_int(rec.created_at)}));
      for (const FixKernelRow* k : fresh)
        NR_TRY_STATUS(c.exec(std::string("INSERT INTO fix_kernels (") + kFixKernelCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             {sql_text(k->fix_id), sql_text(k->release), sql_text(k->version), sql_text(k->outcome),
                              sql_text(k->bundle_sha256), sql_text(k->build_id), sql_int(k->sequence),
                              sql_text(k->reason), sql_text(rec.sha256)}));
      for (const FixKernelRow* k : upgraded)
        NR_TRY_STATUS(c.exec("UPDATE fix_kernels SET outcome = ?, bundle_sha256 = ?, k_build_id = ?, sequence = ?, reason = ?, "
                             "record_sha256 = ? WHERE fix_id = ? AND k_release = ?",
                             {sql_text(k->outcome), sql_text(k->bundle_sha256), sql_text(k->build_id), sql_int(k->sequence),
                              sql_text(k->reason), sql_text(rec.sha256), sql_text(k->fix_id), sql_text(k->release)}));
      created = true;
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return created;
  }

  Result<std::vector<FixRow>> list_fixes() override {
    NR_TRY(auto r, q("SELECT id, description, created_at FROM fixes ORDER BY id"));
    std::vector<FixRow> out;
    for (const auto& row : r.rows) out.push_back({row.text(0), row.text(1), row.integer(2)});
    return out;
  }

  Result<std::vector<FixKernelRow>> fix_kernels(const std::string& fix_id) override {
    std::string sql = std::string("SELECT ") + kFixKernelCols + " FROM fix_kernels";
    std::vector<SqlParam> p;
    if (!fix_id.empty()) {
      sql += " WHERE fix_id = ?";
      p.push_back(sql_text(fix_id));
    }
    NR_TRY(auto r, q(sql + " ORDER BY fix_id, k_release", p));
    std::vector<FixKernelRow> out;
    for (const auto& row : r.rows) out.push_back(fix_kernel_from(row));
    return out;
  }

  Result<std::optional<StoredFixRecord>> get_fix_record(const std::string& sha) override {
    NR_TRY(auto r, q("SELECT sha256, record, signature, signer, created_at FROM fix_records WHERE sha256 = ?", {sql_text(sha)}));
    if (r.rows.empty()) return std::optional<StoredFixRecord>();
    StoredFixRecord out;
    out.sha256 = r.rows[0].text(0);
    out.record = r.rows[0].text(1);
    out.signature = r.rows[0].text(2);
    out.signer_key_id = r.rows[0].text(3);
    out.created_at = r.rows[0].integer(4);
    return std::optional<StoredFixRecord>(std::move(out));
  }

  // ---- tokens
  Status create_token(const TokenRecord& t, const std::string& hash) override {
    NR_TRY_STATUS(q(std::string("INSERT INTO tokens (secret_hash, ") + kTokenCols +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {sql_text(hash), sql_text(t.id), sql_text(t.kind), sql_text(t.role), sql_text(t.name),
                     sql_text(t.group), sql_text(list_json(t.tags)), sql_int(t.expires_at),
                     sql_int(t.max_uses), sql_int(t.uses), sql_int(t.revoked ? 1 : 0), sql_int(t.created_at)}));
    return ok_status();
  }

  Result<std::optional<TokenRecord>> find_token(const std::string& hash) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kTokenCols + " FROM tokens WHERE secret_hash = ?", {sql_text(hash)}));
    if (r.rows.empty()) return std::optional<TokenRecord>();
    return std::optional<TokenRecord>(token_from(r.rows[0]));
  }

  Result<std::vector<TokenRecord>> list_tokens(const std::string& kind) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kTokenCols + " FROM tokens WHERE kind = ? ORDER BY created_at, id",
                     {sql_text(kind)}));
    std::vector<TokenRecord> out;
    for (const auto& row : r.rows) out.push_back(token_from(row));
    return out;
  }

  Result<bool> revoke_token(const std::string& id, const std::string& kind) override {
    NR_TRY(auto r, q("UPDATE tokens SET revoked = 1 WHERE id = ? AND kind = ?", {sql_text(id), sql_text(kind)}));
    return r.affected > 0;
  }

  Result<std::int64_t> count_tokens(const std::string& kind) override {
    NR_TRY(auto r, q("SELECT COUNT(*) FROM tokens WHERE kind = ? AND revoked = 0", {sql_text(kind)}));
    return r.rows.at(0).integer(0);
  }

  Result<std::int64_t> count_usable_admins(std::int64_t now) override {
    NR_TRY(auto r, q("SELECT COUNT(*) FROM tokens WHERE kind = 'admin' AND role = 'admin' AND revoked = 0"
                     " AND (expires_at = 0 OR expires_at > ?)",
                     {sql_int(now)}));
    return r.rows.at(0).integer(0);
  }

  Result<AdminRevoke> revoke_admin_token(const std::string& id, std::int64_t now) override {
    NR_TRY(auto r, q("UPDATE tokens SET revoked = 1 WHERE id = ? AND kind = 'admin' AND (role <> 'admin' OR EXISTS"
                     " (SELECT 1 FROM tokens o WHERE o.kind = 'admin' AND o.role = 'admin' AND o.revoked = 0"
                     " AND (o.expires_at = 0 OR o.expires_at > ?) AND o.id <> ?))",
                     {sql_text(id), sql_int(now), sql_text(id)}));
    if (r.affected > 0) return AdminRevoke::revoked;
    NR_TRY(auto e, q("SELECT 1 FROM tokens WHERE id = ? AND kind = 'admin'", {sql_text(id)}));
    return e.rows.empty() ? AdminRevoke::not_found : AdminRevoke::last_admin;
  }

  Result<std::optional<TokenRecord>> enroll_host(const std::string& token_hash, HostRecord h,
                                                 const std::string& cred_hash, std::int64_t now) override {
    std::optional<TokenRecord> used;
    Status st = pool_->transaction([&](SqlConn& c) -> Status {
      NR_TRY(auto upd, c.exec("UPDATE tokens SET uses = uses + 1 WHERE secret_hash = ? AND kind = 'enrollment'"
                              " AND revoked = 0 AND (expires_at = 0 OR expires_at > ?)"
                              " AND (max_uses = 0 OR uses < max_uses)",
                              {sql_text(token_hash), sql_int(now)}));
      if (upd.affected == 0) return ok_status();
      NR_TRY(auto r, c.exec(std::string("SELECT ") + kTokenCols + " FROM tokens WHERE secret_hash = ?",
                            {sql_text(token_hash)}));
      TokenRecord t = token_from(r.rows.at(0));
      h.group = t.group;
      std::vector<std::string> tags = t.tags;
      for (const auto& tag : h.tags)
        if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
      h.tags = tags;
      NR_TRY_STATUS(c.exec(std::string("INSERT INTO hosts (credential_hash, ") + kHostCols +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           host_params(h, &cred_hash)));
      NR_TRY_STATUS(c.exec("INSERT INTO host_events (host_id, time, kind, detail) VALUES (?, ?, ?, ?)",
                           {sql_text(h.id), sql_int(now), sql_text("enrolled"),
                            sql_text(json{{"token", t.id}, {"group", t.group}}.dump())}));
      used = t;
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return used;
  }

  static std::vector<SqlParam> host_params(const HostRecord& h, const std::string* cred_hash) {
    std::vector<SqlParam> p;
    if (cred_hash) p.push_back(sql_text(*cred_hash));
    p.insert(p.end(), {sql_text(h.id), sql_text(h.hostname), sql_text(h.group), sql_text(list_json(h.tags)),
                       sql_text(h.kernel.release), sql_text(h.kernel.version), sql_text(h.kernel.build_id),
                       sql_text(h.kernel.arch), sql_text(h.state)});
    if (h.applied) {
      p.push_back(sql_text(h.applied->name));
      p.push_back(sql_int(static_cast<std::int64_t>(h.applied->sequence)));
      p.push_back(sql_text(h.applied->bundle_sha256));
    } else {
      p.insert(p.end(), {SqlParam::null(), SqlParam::null(), SqlParam::null()});
    }
    p.insert(p.end(), {sql_int(h.last_seen), sql_int(h.enrolled_at), sql_text(h.last_error)});
    return p;
  }

  // ---- hosts
  Result<std::optional<HostRecord>> find_host_by_credential(const std::string& hash) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kHostCols + " FROM hosts WHERE credential_hash = ?", {sql_text(hash)}));
    if (r.rows.empty()) return std::optional<HostRecord>();
    return std::optional<HostRecord>(host_from(r.rows[0]));
  }

  Result<std::optional<HostRecord>> get_host(const std::string& id) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kHostCols + " FROM hosts WHERE id = ?", {sql_text(id)}));
    if (r.rows.empty()) return std::optional<HostRecord>();
    return std::optional<HostRecord>(host_from(r.rows[0]));
  }

  Result<bool> revoke_host(const std::string& id, std::int64_t now) override {
    bool found = false;
    Status st = pool_->transaction([&](SqlConn& c) -> Status {
      // The credential hash becomes a value no SHA-256 hex can equal (and stays unique).
      NR_TRY(auto r, c.exec("UPDATE hosts SET credential_hash = ?, state = 'revoked' WHERE id = ?",
                            {sql_text("revoked:" + id), sql_text(id)}));
      if (r.affected == 0) return ok_status();
      found = true;
      NR_TRY_STATUS(c.exec("INSERT INTO host_events (host_id, time, kind, detail) VALUES (?, ?, 'revoked', '{}')",
                           {sql_text(id), sql_int(now)}));
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return found;
  }

  static std::string where(const HostFilter& f, std::vector<SqlParam>& p) {
    std::string w = " WHERE 1 = 1";
    if (!f.group.empty()) { w += " AND grp = ?"; p.push_back(sql_text(f.group)); }
    if (!f.state.empty()) { w += " AND state = ?"; p.push_back(sql_text(f.state)); }
    if (!f.build_id.empty()) { w += " AND k_build_id = ?"; p.push_back(sql_text(f.build_id)); }
    return w;
  }

  Result<std::vector<HostRecord>> list_hosts(const HostFilter& f) override {
    std::vector<SqlParam> p;
    std::string sql = std::string("SELECT ") + kHostCols + " FROM hosts" + where(f, p) +
                      " ORDER BY id LIMIT ? OFFSET ?";
    p.push_back(sql_int(f.limit));
    p.push_back(sql_int(f.offset));
    NR_TRY(auto r, q(sql, p));
    std::vector<HostRecord> out;
    out.reserve(r.rows.size());
    for (const auto& row : r.rows) out.push_back(host_from(row));
    return out;
  }

  Result<std::int64_t> count_hosts(const HostFilter& f) override {
    std::vector<SqlParam> p;
    std::string sql = "SELECT COUNT(*) FROM hosts" + where(f, p);  // fills p first
    NR_TRY(auto r, q(sql, p));
    return r.rows.at(0).integer(0);
  }

  Status add_host_event(const std::string& host_id, const HostEvent& e) override {
    NR_TRY_STATUS(q("INSERT INTO host_events (host_id, time, kind, detail) VALUES (?, ?, ?, ?)",
                    {sql_text(host_id), sql_int(e.time), sql_text(e.kind), sql_text(e.detail)}));
    return ok_status();
  }

  Result<std::vector<HostEvent>> host_history(const std::string& host_id, int limit) override {
    NR_TRY(auto r, q("SELECT time, kind, detail FROM host_events WHERE host_id = ? ORDER BY id DESC LIMIT ?",
                     {sql_text(host_id), sql_int(limit)}));
    std::vector<HostEvent> out;
    for (const auto& row : r.rows) out.push_back({row.integer(0), row.text(1), row.text(2)});
    return out;
  }

  Status apply_writes(const WriteBatch& b) override {
    if (b.empty()) return ok_status();
    // Last write per host and per (host, bundle) wins; offers are insert-if-absent, so
    // running them before the other outcomes gives the same rows as the original order.
    std::vector<const HostRecord*> statuses;
    {
      std::map<std::string, std::size_t> last;
      for (std::size_t i = 0; i < b.statuses.size(); ++i) last[b.statuses[i].id] = i;
      for (const auto& [id, i] : last) statuses.push_back(&b.statuses[i]);
    }
    std::vector<const OutcomeWrite*> offers, outcomes;
    {
      std::map<std::pair<std::string, std::string>, std::size_t> last_offer, last_outcome;
      for (std::size_t i = 0; i < b.outcomes.size(); ++i)
        (b.outcomes[i].outcome == "offered" ? last_offer : last_outcome)[{b.outcomes[i].host_id, b.outcomes[i].sha256}] = i;
      for (const auto& [k, i] : last_offer) offers.push_back(&b.outcomes[i]);
      for (const auto& [k, i] : last_outcome) outcomes.push_back(&b.outcomes[i]);
    }
    return pool_->transaction([&](SqlConn& c) -> Status {
      NR_TRY_STATUS(multi_row(
          c,
          "UPDATE hosts SET k_release = v.column2, k_version = v.column3, k_build_id = v.column4,"
          " k_arch = v.column5, state = v.column6, a_name = v.column7, a_sequence = v.column8,"
          " a_sha256 = v.column9, last_seen = v.column10, last_error = v.column11 FROM (VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT), ?)", ") AS v WHERE hosts.id = v.column1",
          statuses.size(), [&](std::size_t i, std::vector<SqlParam>& p) {
            const HostRecord& h = *statuses[i];
            p.insert(p.end(), {sql_text(h.id), sql_text(h.kernel.release), sql_text(h.kernel.version),
                               sql_text(h.kernel.build_id), sql_text(h.kernel.arch), sql_text(h.state)});
            if (h.applied)
              p.insert(p.end(), {sql_text(h.applied->name), sql_int(static_cast<std::int64_t>(h.applied->sequence)),
                                 sql_text(h.applied->bundle_sha256)});
            else
              p.insert(p.end(), {SqlParam::null(), SqlParam::null(), SqlParam::null()});
            p.insert(p.end(), {sql_int(h.last_seen), sql_text(h.last_error)});
          }));
      NR_TRY_STATUS(multi_row(c, "INSERT INTO host_bundle (host_id, sha256, outcome, updated_at) VALUES ",
                              "(?, ?, 'offered', ?)", " ON CONFLICT (host_id, sha256) DO NOTHING", offers.size(),
                              [&](std::size_t i, std::vector<SqlParam>& p) {
                                p.insert(p.end(), {sql_text(offers[i]->host_id), sql_text(offers[i]->sha256),
                                                   sql_int(offers[i]->time)});
                              }));
      NR_TRY_STATUS(multi_row(c, "INSERT INTO host_bundle (host_id, sha256, outcome, updated_at) VALUES ",
                              "(?, ?, ?, ?)",
                              " ON CONFLICT (host_id, sha256) DO UPDATE SET outcome = excluded.outcome,"
                              " updated_at = excluded.updated_at",
                              outcomes.size(), [&](std::size_t i, std::vector<SqlParam>& p) {
                                p.insert(p.end(), {sql_text(outcomes[i]->host_id), sql_text(outcomes[i]->sha256),
                                                   sql_text(outcomes[i]->outcome), sql_int(outcomes[i]->time)});
                              }));
      NR_TRY_STATUS(multi_row(c, "INSERT INTO host_events (host_id, time, kind, detail) VALUES ", "(?, ?, ?, ?)", "",
                              b.events.size(), [&](std::size_t i, std::vector<SqlParam>& p) {
                                const auto& e = b.events[i];
                                p.insert(p.end(), {sql_text(e.host_id), sql_int(e.event.time),
                                                   sql_text(e.event.kind), sql_text(e.event.detail)});
                              }));
      return ok_status();
    });
  }

  // ---- outcomes
  Result<std::string> host_outcome(const std::string& host_id, const std::string& sha) override {
    NR_TRY(auto r, q("SELECT outcome FROM host_bundle WHERE host_id = ? AND sha256 = ?",
                     {sql_text(host_id), sql_text(sha)}));
    return r.rows.empty() ? std::string() : r.rows[0].text(0);
  }

  Result<RolloutCounts> bundle_counts(const std::string& sha) override {
    NR_TRY(auto r, q("SELECT outcome, COUNT(*) FROM host_bundle WHERE sha256 = ? GROUP BY outcome", {sql_text(sha)}));
    RolloutCounts c;
    for (const auto& row : r.rows) {
      if (row.text(0) == "offered") c.offered = row.integer(1);
      else if (row.text(0) == "applied") c.applied = row.integer(1);
      else if (row.text(0) == "failed") c.failed = row.integer(1);
    }
    return c;
  }

  Result<std::vector<std::pair<std::string, std::string>>> failed_outcomes() override {
    NR_TRY(auto r, q("SELECT host_id, sha256 FROM host_bundle WHERE outcome = 'failed'"));
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : r.rows) out.emplace_back(row.text(0), row.text(1));
    return out;
  }

  Result<std::vector<OutcomeTime>> outcome_times(const std::vector<std::string>& shas) override {
    std::vector<OutcomeTime> out;
    if (shas.empty()) return out;
    std::string sql = "SELECT updated_at, outcome FROM host_bundle WHERE outcome IN ('applied', 'failed') AND sha256 IN (";
    std::vector<SqlParam> params;
    for (std::size_t i = 0; i < shas.size(); ++i) {
      sql += i ? ", ?" : "?";
      params.push_back(sql_text(shas[i]));
    }
    sql += ") ORDER BY updated_at";
    NR_TRY(auto r, q(sql, std::move(params)));
    for (const auto& row : r.rows) out.push_back({row.integer(0), row.text(1)});
    return out;
  }

  // ---- rollouts
  static std::vector<SqlParam> rollout_params(const RolloutRecord& o) {
    return {sql_text(o.id), sql_text(o.bundle_sha256), sql_text(list_json(o.groups)),
            sql_text(list_json(o.tags)), sql_text(stages_json(o.stages)),
            sql_text(o.window ? api::format_window(*o.window) : std::string()),
            sql_text(std::string(rollout_state_name(o.state))), sql_int(o.current_stage),
            sql_int(o.stage_started_at), sql_int(o.created_at), sql_text(o.halt_reason),
            sql_int(o.failure_baseline), sql_text(o.fix_id), sql_text(list_json(o.bundles))};
  }

  Status create_rollout(const RolloutRecord& o) override {
    NR_TRY_STATUS(q(std::string("INSERT INTO rollouts (") + kRolloutCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rollout_params(o)));
    return ok_status();
  }

  Result<std::optional<RolloutRecord>> get_rollout(const std::string& id) override {
    NR_TRY(auto r, q(std::string("SELECT ") + kRolloutCols + " FROM rollouts WHERE id = ?", {sql_text(id)}));
    if (r.rows.empty()) return std::optional<RolloutRecord>();
    return std::optional<RolloutRecord>(rollout_from(r.rows[0]));
  }

  Result<std::vector<RolloutRecord>> list_rollouts() override {
    NR_TRY(auto r, q(std::string("SELECT ") + kRolloutCols + " FROM rollouts ORDER BY created_at, id"));
    std::vector<RolloutRecord> out;
    for (const auto& row : r.rows) out.push_back(rollout_from(row));
    return out;
  }

  static constexpr const char* kUpdateRolloutSql =
      "UPDATE rollouts SET state = ?, current_stage = ?, stage_started_at = ?, halt_reason = ?,"
      " failure_baseline = ?"
      " WHERE id = ? AND state = ? AND current_stage = ? AND stage_started_at = ?";
  static std::vector<SqlParam> update_rollout_params(const RolloutRecord& expected, const RolloutRecord& next) {
    return {sql_text(std::string(rollout_state_name(next.state))), sql_int(next.current_stage),
            sql_int(next.stage_started_at), sql_text(next.halt_reason), sql_int(next.failure_baseline),
            sql_text(expected.id),
            sql_text(std::string(rollout_state_name(expected.state))),
            sql_int(expected.current_stage), sql_int(expected.stage_started_at)};
  }

  Result<bool> update_rollout(const RolloutRecord& expected, const RolloutRecord& next) override {
    NR_TRY(auto r, q(kUpdateRolloutSql, update_rollout_params(expected, next)));
    return r.affected > 0;
  }

  Result<bool> update_rollout_and_block(const RolloutRecord& expected, const RolloutRecord& next,
                                        const std::vector<std::string>& bundles, bool blocked) override {
    bool wrote = false;
    Status st = pool_->transaction([&](SqlConn& c) -> Status {
      NR_TRY(auto r, c.exec(kUpdateRolloutSql, update_rollout_params(expected, next)));
      if (r.affected == 0) return ok_status();
      if (failpoint::hit("store.halt.between_writes"))
        return Error(Errc::io, "failpoint store.halt.between_writes");
      for (const auto& sha : bundles)
        NR_TRY_STATUS(c.exec("UPDATE bundles SET blocked = ?, blocked_reason = ? WHERE sha256 = ?",
                             {sql_int(blocked ? 1 : 0), sql_text(blocked ? next.halt_reason : std::string()),
                              sql_text(sha)}));
      wrote = true;
      return ok_status();
    });
    if (!st) return std::move(st).error();
    return wrote;
  }

  // ---- pins
  Status put_pin(const PinRecord& p) override {
    NR_TRY_STATUS(q("INSERT INTO pins (grp, bundle_sha256, until_time) VALUES (?, ?, ?)"
                    " ON CONFLICT (grp) DO UPDATE SET bundle_sha256 = excluded.bundle_sha256,"
                    " until_time = excluded.until_time",
                    {sql_text(p.group), sql_text(p.bundle_sha256), sql_int(p.until)}));
    return ok_status();
  }
  Result<bool> delete_pin(const std::string& group) override {
    NR_TRY(auto r, q("DELETE FROM pins WHERE grp = ?", {sql_text(group)}));
    return r.affected > 0;
  }
  Result<std::vector<PinRecord>> list_pins() override {
    NR_TRY(auto r, q("SELECT grp, bundle_sha256, until_time FROM pins ORDER BY grp"));
    std::vector<PinRecord> out;
    for (const auto& row : r.rows) out.push_back({row.text(0), row.text(1), row.integer(2)});
    return out;
  }

  // ---- audit
  Status add_audit(const AuditEntry& e) override {
    NR_TRY_STATUS(q("INSERT INTO audit (time, actor, action, detail) VALUES (?, ?, ?, ?)",
                    {sql_int(e.time), sql_text(e.actor), sql_text(e.action), sql_text(e.detail)}));
    return ok_status();
  }
  Result<std::vector<AuditEntry>> list_audit(int limit) override {
    NR_TRY(auto r, q("SELECT time, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", {sql_int(limit)}));
    std::vector<AuditEntry> out;
    for (const auto& row : r.rows) out.push_back({row.integer(0), row.text(1), row.text(2), row.text(3)});
    return out;
  }

  Result<std::vector<AuditEntry>> audit_mentioning(const std::string& action_prefix, const std::string& text,
                                                   int limit) override {
    auto like = [](const std::string& v) {  // LIKE pattern matching v literally (ESCAPE '\\')
      std::string out;
      for (char c : v) {
        if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      return out;
    };
    NR_TRY(auto r, q("SELECT time, actor, action, detail FROM audit WHERE action LIKE ? ESCAPE '\\'"
                     " AND detail LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?",
                     {sql_text(like(action_prefix) + "%"), sql_text("%" + like(text) + "%"), sql_int(limit)}));
    std::vector<AuditEntry> out;
    for (auto it = r.rows.rbegin(); it != r.rows.rend(); ++it)
      out.push_back({it->integer(0), it->text(1), it->text(2), it->text(3)});
    return out;
  }

  // ---- fleet
  Result<std::vector<Count>> counts(std::string_view sql, bool two_keys) {
    NR_TRY(auto r, q(sql));
    std::vector<Count> out;
    for (const auto& row : r.rows)
      out.push_back(two_keys ? Count{row.text(0), row.text(1), row.integer(2)}
                             : Count{row.text(0), "", row.integer(1)});
    return out;
  }
  Result<std::vector<Count>> hosts_by_state() override {
    return counts("SELECT state, COUNT(*) FROM hosts GROUP BY state ORDER BY state", false);
  }
  Result<std::vector<Count>> hosts_by_kernel() override {
    return counts("SELECT k_release, k_build_id, COUNT(*) FROM hosts GROUP BY k_release, k_build_id"
                  " ORDER BY k_release, k_build_id", true);
  }
  Result<std::vector<Count>> hosts_by_applied_bundle() override {
    return counts("SELECT a_sha256, COUNT(*) FROM hosts WHERE a_sha256 IS NOT NULL GROUP BY a_sha256"
                  " ORDER BY a_sha256", false);
  }
  Result<std::vector<HostKernelCount>> hosts_by_kernel_and_applied() override {
    NR_TRY(auto r, q("SELECT k_release, k_version, k_build_id, COALESCE(a_sha256, ''), COUNT(*) FROM hosts"
                     " GROUP BY k_release, k_version, k_build_id, COALESCE(a_sha256, '')"
                     " ORDER BY k_release, k_build_id"));
    std::vector<HostKernelCount> out;
    for (const auto& row : r.rows) out.push_back({row.text(0), row.text(1), row.text(2), row.text(3), row.integer(4)});
    return out;
  }
  Result<std::int64_t> hosts_behind(const std::string& build_id, std::int64_t sequence) override {
    NR_TRY(auto r, q("SELECT COUNT(*) FROM hosts WHERE k_build_id = ? AND COALESCE(a_sequence, 0) < ?",
                     {sql_text(build_id), sql_int(sequence)}));
    return r.rows.at(0).integer(0);
  }

 private:
  std::unique_ptr<SqlPool> pool_;
  std::string pg_conninfo_;
};

}  // namespace

void WriteBatch::append(WriteBatch&& o) {
  auto move_all = [](auto& to, auto& from) {
    if (to.empty()) {
      to = std::move(from);
    } else {
      to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    }
    from.clear();
  };
  move_all(statuses, o.statuses);
  move_all(outcomes, o.outcomes);
  move_all(events, o.events);
}

std::string_view rollout_state_name(RolloutState s) {
  switch (s) {
    case RolloutState::running: return "running";
    case RolloutState::halted: return "halted";
    case RolloutState::completed: return "completed";
    case RolloutState::awaiting_approval: return "awaiting_approval";
  }
  return "running";
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(Errc::io, "data directory " + data_dir + ": " + ec.message());
  NR_TRY(auto pool, open_sqlite_pool(data_dir + "/noreboot.db"));
  auto store = std::make_unique<SqlStore>(std::move(pool));
  NR_TRY_STATUS(store->migrate());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo, int connections) {
  NR_TRY(auto pool, open_postgres_pool(conninfo, connections));
  auto store = std::make_unique<SqlStore>(std::move(pool), conninfo);
  NR_TRY_STATUS(store->migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace noreboot::server
