// The store test suite, run against both backends: SQLite in a temp dir always; PostgreSQL
// when NOREBOOT_PG_CONNINFO names a running server (tests/with-postgres starts a real one and
// sets it; ctest label "store"). Each PostgreSQL test gets a fresh database.
#include "server/store.h"
#include "server/store_oracle.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

namespace noreboot::server {
namespace {

const std::string kBuild = "00112233445566778899aabbccddeeff00112233";
std::string sha(char c) { return std::string(64, c); }

bool pg_admin(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) ADD_FAILURE() << PQerrorMessage(c);
    PQclear(r);
  } else {
    ADD_FAILURE() << PQerrorMessage(c);
  }
  PQfinish(c);
  return ok;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             ("nr-store-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
      auto s = open_sqlite_store(dir_.string());
      ASSERT_TRUE(s.ok()) << s.error().message();
      store_ = std::move(s).value();
    } else {
      const char* ci = std::getenv("NOREBOOT_PG_CONNINFO");
      if (!ci) GTEST_SKIP() << "NOREBOOT_PG_CONNINFO not set (run under tests/with-postgres)";
      base_ = ci;
      db_ = "nr_test_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
      ASSERT_TRUE(pg_admin(base_ + " dbname=postgres", "CREATE DATABASE " + db_));
      auto s = open_postgres_store(base_ + " dbname=" + db_, 2);
      ASSERT_TRUE(s.ok()) << s.error().message();
      store_ = std::move(s).value();
    }
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!db_.empty()) pg_admin(base_ + " dbname=postgres", "DROP DATABASE " + db_);
  }
  // A statement run beside the store, on its own connection.
  bool raw_sql(const std::string& sql) {
    if (GetParam() != "sqlite") return pg_admin(base_ + " dbname=" + db_, sql);
    sqlite3* db = nullptr;
    bool ok = sqlite3_open((dir_ / "noreboot.db").c_str(), &db) == SQLITE_OK &&
              sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok) ADD_FAILURE() << sqlite3_errmsg(db);
    sqlite3_close(db);
    return ok;
  }
  Result<std::unique_ptr<Store>> reopen() {
    store_.reset();
    if (GetParam() == "sqlite") return open_sqlite_store(dir_.string());
    return open_postgres_store(base_ + " dbname=" + db_, 2);
  }

  BundleRecord bundle(char c, std::int64_t seq) {
    return {sha(c), 5, "nr_fix", seq, "6.1.0-56-amd64", kBuild, "x86_64", 100, false, ""};
  }

  HostRecord host(const std::string& id) {
    HostRecord h;
    h.id = id;
    h.hostname = "host-" + id;
    h.kernel = {"6.1.0-56-amd64", "#1 SMP", kBuild, "x86_64"};
    h.tags = {"edge"};
    h.enrolled_at = h.last_seen = 50;
    return h;
  }

  std::unique_ptr<Store> store_;
  std::filesystem::path dir_;
  std::string base_, db_;
};

TEST_P(StoreTest, MigratesOnceAndReopens) {
  auto v = store_->schema_version();
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(*v, 3);
  ASSERT_TRUE(store_->put_bundle(bundle('a', 1), "hello").ok());
  auto again = reopen();
  ASSERT_TRUE(again.ok()) << again.error().message();
  store_ = std::move(again).value();
  EXPECT_EQ(*store_->schema_version(), 3);
  auto b = store_->get_bundle(sha('a'));
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->sequence, 1);
}

TEST_P(StoreTest, BundlesAreContentAddressedWithBinaryContent) {
  std::string bytes("\0\x01\xff\\x00'; DROP TABLE bundles;--", 31);
  auto created = store_->put_bundle(bundle('b', 2), bytes);
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_TRUE(*created);
  auto again = store_->put_bundle(bundle('b', 2), bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto content = store_->get_bundle_content(sha('b'));
  ASSERT_TRUE(content.ok() && content->has_value());
  EXPECT_EQ(**content, bytes);
  EXPECT_FALSE(store_->get_bundle_content(sha('c'))->has_value());
  ASSERT_TRUE(store_->set_bundle_blocked(sha('b'), true, "halted").ok());
  auto b = store_->get_bundle(sha('b'));
  EXPECT_TRUE((*b)->blocked);
  EXPECT_EQ((*b)->blocked_reason, "halted");
  EXPECT_EQ(store_->list_bundles()->size(), 1u);
}

TEST_P(StoreTest, EnrollmentTokenExpiryUsesAndRevocation) {
  TokenRecord t{"t_1", "enrollment", "", "web tokens", "web", {"eu"}, 1000, 2, 0, false, 10};
  ASSERT_TRUE(store_->create_token(t, "hash1").ok());
  auto e1 = store_->enroll_host("hash1", host("h_1"), "cred1", 500);
  ASSERT_TRUE(e1.ok()) << e1.error().message();
  ASSERT_TRUE(e1->has_value());
  auto h = store_->find_host_by_credential("cred1");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->group, "web");
  EXPECT_EQ((*h)->tags, (std::vector<std::string>{"eu", "edge"}));
  EXPECT_TRUE(store_->enroll_host("hash1", host("h_2"), "cred2", 500)->has_value());
  // used up
  EXPECT_FALSE(store_->enroll_host("hash1", host("h_3"), "cred3", 500)->has_value());
  EXPECT_FALSE(store_->get_host("h_3")->has_value());
  // expired
  TokenRecord t2{"t_2", "enrollment", "", "", "db", {}, 1000, 0, 0, false, 10};
  ASSERT_TRUE(store_->create_token(t2, "hash2").ok());
  EXPECT_FALSE(store_->enroll_host("hash2", host("h_4"), "cred4", 1000)->has_value());
  EXPECT_TRUE(store_->enroll_host("hash2", host("h_5"), "cred5", 999)->has_value());
  // revoked
  EXPECT_TRUE(*store_->revoke_token("t_2", "enrollment"));
  EXPECT_FALSE(store_->enroll_host("hash2", host("h_6"), "cred6", 999)->has_value());
  EXPECT_FALSE(*store_->revoke_token("t_2", "admin"));
  // unknown
  EXPECT_FALSE(store_->enroll_host("nope", host("h_7"), "cred7", 1)->has_value());
  EXPECT_EQ(*store_->count_hosts({}), 3);
  auto hist = store_->host_history("h_1", 10);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 1u);
  EXPECT_EQ(hist->at(0).kind, "enrolled");
}

TEST_P(StoreTest, HostStatusAndFleetAggregates) {
  TokenRecord t{"t_1", "enrollment", "", "", "web", {}, 0, 0, 0, false, 10};
  ASSERT_TRUE(store_->create_token(t, "h").ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->enroll_host("h", host("h_" + std::to_string(i)), "c" + std::to_string(i), 1)->has_value());
  auto h = *store_->get_host("h_2");
  h->state = "applied";
  h->applied = api::AppliedPatch{"nr_fix", 3, sha('d')};
  h->last_seen = 99;
  ASSERT_TRUE(StoreOracle(*store_).update_host_status(*h).ok());
  auto back = *store_->get_host("h_2");
  ASSERT_TRUE(back->applied.has_value());
  EXPECT_EQ(back->applied->sequence, 3u);
  EXPECT_EQ(back->last_seen, 99);
  auto states = *store_->hosts_by_state();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].key, "applied");
  EXPECT_EQ(states[0].n, 1);
  EXPECT_EQ(states[1].n, 4);
  EXPECT_EQ(store_->hosts_by_kernel()->at(0).n, 5);
  EXPECT_EQ(store_->hosts_by_applied_bundle()->at(0).key, sha('d'));
  EXPECT_EQ(*store_->hosts_behind(kBuild, 3), 4);
  EXPECT_EQ(*store_->hosts_behind(kBuild, 4), 5);
  HostFilter f;
  f.state = "idle";
  f.limit = 2;
  EXPECT_EQ(store_->list_hosts(f)->size(), 2u);
  EXPECT_EQ(*store_->count_hosts(f), 4);
  f.group = "x'; DELETE FROM hosts;--";
  EXPECT_EQ(*store_->count_hosts(f), 0);
  EXPECT_EQ(*store_->count_hosts({}), 5);
}

TEST_P(StoreTest, OutcomesCountPerBundle) {
  ASSERT_TRUE(StoreOracle(*store_).record_offer("h_1", sha('e'), 1).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_offer("h_2", sha('e'), 1).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_offer("h_3", sha('e'), 1).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_outcome("h_1", sha('e'), "applied", 2).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_outcome("h_2", sha('e'), "failed", 2).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_offer("h_2", sha('e'), 3).ok());  // does not overwrite the failure
  auto c = *store_->bundle_counts(sha('e'));
  EXPECT_EQ(c.offered, 1);
  EXPECT_EQ(c.applied, 1);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(*store_->host_outcome("h_2", sha('e')), "failed");
  EXPECT_EQ(*store_->host_outcome("h_9", sha('e')), "");
}

TEST_P(StoreTest, RolloutCompareAndSet) {
  RolloutRecord r;
  r.id = "r_1";
  r.bundle_sha256 = sha('f');
  r.groups = {"web"};
  r.stages = {{10, 60, 1}, {100, 0, 5}};
  r.window = api::MaintenanceWindow{60, 120};
  r.stage_started_at = r.created_at = 1000;
  ASSERT_TRUE(store_->create_rollout(r).ok());
  auto got = *store_->get_rollout("r_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->stages.size(), 2u);
  EXPECT_DOUBLE_EQ(got->stages[0].percent, 10);
  EXPECT_EQ(got->window->end_minute, 120);
  EXPECT_EQ(got->failure_baseline, 0);
  RolloutRecord next = *got;
  next.current_stage = 1;
  next.stage_started_at = 1100;
  next.failure_baseline = 3;
  EXPECT_TRUE(*store_->update_rollout(*got, next));
  EXPECT_FALSE(*store_->update_rollout(*got, next));  // a second server racing loses
  auto now = *store_->get_rollout("r_1");
  EXPECT_EQ(now->current_stage, 1);
  EXPECT_EQ(now->failure_baseline, 3);
  EXPECT_EQ(store_->list_rollouts()->size(), 1u);
  EXPECT_TRUE(now->fix_id.empty());
  EXPECT_EQ(now->all_bundles(), std::vector<std::string>{sha('f')});
  // A fix rollout: a fix id and its bundles, one per kernel.
  RolloutRecord f;
  f.id = "r_2";
  f.fix_id = "CVE-2026-1";
  f.bundles = {sha('a'), sha('b')};
  f.stages = {{100, 0, 1}};
  ASSERT_TRUE(store_->create_rollout(f).ok());
  auto fg = *store_->get_rollout("r_2");
  ASSERT_TRUE(fg.has_value());
  EXPECT_EQ(fg->fix_id, "CVE-2026-1");
  EXPECT_TRUE(fg->bundle_sha256.empty());
  EXPECT_EQ(fg->all_bundles(), (std::vector<std::string>{sha('a'), sha('b')}));
}

TEST_P(StoreTest, PinsAuditTokens) {
  ASSERT_TRUE(store_->put_pin({"db", sha('a'), 0}).ok());
  ASSERT_TRUE(store_->put_pin({"db", "", 5000}).ok());
  auto pins = *store_->list_pins();
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].until, 5000);
  EXPECT_TRUE(pins[0].bundle_sha256.empty());
  EXPECT_TRUE(*store_->delete_pin("db"));
  EXPECT_FALSE(*store_->delete_pin("db"));
  ASSERT_TRUE(store_->add_audit({1, "t_admin", "publish", "{}"}).ok());
  ASSERT_TRUE(store_->add_audit({2, "t_admin", "rollout.create", "{}"}).ok());
  auto audit = *store_->list_audit(10);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "rollout.create");
  TokenRecord a{"t_a", "admin", "read", "ci", "", {}, 0, 0, 0, false, 1};
  ASSERT_TRUE(store_->create_token(a, "ahash").ok());
  EXPECT_EQ(*store_->count_tokens("admin"), 1);
  EXPECT_EQ((*store_->find_token("ahash"))->role, "read");
  EXPECT_FALSE(store_->find_token("other")->has_value());
  EXPECT_FALSE(store_->create_token(a, "ahash").ok());  // duplicate id/hash refused
}

TEST_P(StoreTest, ConcurrentWritersDoNotLoseUpdates) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i)
        EXPECT_TRUE(StoreOracle(*store_).record_offer("h_" + std::to_string(t * 100 + i), sha('9'), i).ok());
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(store_->bundle_counts(sha('9'))->offered, 100);
}

// Group commit: one batch with hundreds of rows of every kind, repeated keys and SQL-looking
// text, gives the same rows as applying the writes one by one in order.
TEST_P(StoreTest, ApplyWritesMatchesOneByOne) {
  TokenRecord t{"t_1", "enrollment", "", "", "web", {}, 0, 0, 0, false, 10};
  ASSERT_TRUE(store_->create_token(t, "h").ok());
  const int n = 300;  // more than one chunk (256) and an odd remainder
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(store_->enroll_host("h", host("h_" + std::to_string(i)), "c" + std::to_string(i), 1)->has_value());
  WriteBatch b;
  for (int i = 0; i < n; ++i) {
    HostRecord h = *store_->get_host("h_" + std::to_string(i)).value();
    h.state = "applied";
    h.applied = api::AppliedPatch{"nr_fix", 2, sha('a')};
    h.last_seen = 1000 + i;
    if (i == 7) {  // an earlier write of the same host, overwritten below
      HostRecord early = h;
      early.state = "failed";
      early.applied.reset();
      early.last_error = "x'); DROP TABLE hosts;--";
      b.statuses.push_back(early);
    }
    b.statuses.push_back(h);
    b.outcomes.push_back({h.id, sha('a'), "offered", 900});
    b.events.push_back({h.id, {1000 + i, "report", "{\"n\":" + std::to_string(i) + "}"}});
  }
  // h_1 fails, then an offer of the same bundle must not hide the failure; h_2 applies twice.
  b.outcomes.push_back({"h_1", sha('a'), "failed", 1001});
  b.outcomes.push_back({"h_1", sha('a'), "offered", 1002});
  b.outcomes.push_back({"h_2", sha('a'), "failed", 1001});
  b.outcomes.push_back({"h_2", sha('a'), "applied", 1003});
  b.statuses.push_back([&] {
    HostRecord h = *store_->get_host("h_5").value();
    h.state = "idle";  // no applied patch: NULLs through the multi-row update
    h.last_seen = 5;
    h.last_error = "boom";
    return h;
  }());
  EXPECT_EQ(b.rows(), static_cast<std::size_t>(3 * n + 1 + 4 + 1));
  auto st = store_->apply_writes(b);
  ASSERT_TRUE(st.ok()) << st.error().message();

  auto h7 = *store_->get_host("h_7").value();
  EXPECT_EQ(h7.state, "applied");
  EXPECT_EQ(h7.last_error, "");
  ASSERT_TRUE(h7.applied.has_value());
  EXPECT_EQ(h7.applied->sequence, 2u);
  EXPECT_EQ(h7.last_seen, 1007);
  auto h5 = *store_->get_host("h_5").value();
  EXPECT_EQ(h5.state, "idle");
  EXPECT_FALSE(h5.applied.has_value());
  EXPECT_EQ(h5.last_error, "boom");
  EXPECT_EQ(h5.kernel.build_id, kBuild);
  auto h299 = *store_->get_host("h_299").value();
  EXPECT_EQ(h299.last_seen, 1299);
  EXPECT_EQ(*store_->host_outcome("h_1", sha('a')), "failed");
  EXPECT_EQ(*store_->host_outcome("h_2", sha('a')), "applied");
  auto c = *store_->bundle_counts(sha('a'));
  EXPECT_EQ(c.offered, n - 2);
  EXPECT_EQ(c.applied, 1);
  EXPECT_EQ(c.failed, 1);
  auto failed = *store_->failed_outcomes();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].first, "h_1");
  auto hist = *store_->host_history("h_42", 10);
  ASSERT_EQ(hist.size(), 2u);  // newest first: the report, then the enrollment
  EXPECT_EQ(hist[0].kind, "report");
  EXPECT_EQ(hist[0].detail, "{\"n\":42}");
  EXPECT_EQ(*store_->count_hosts({}), n);
  EXPECT_TRUE(store_->apply_writes(WriteBatch{}).ok());
}

// All or nothing: a batch whose last statement fails (its table is gone) leaves no row of
// the statements before it.
TEST_P(StoreTest, ApplyWritesIsAllOrNothing) {
  WriteBatch b;
  b.outcomes.push_back({"h_1", sha('b'), "offered", 1});
  b.events.push_back({"h_1", {1, "report", "{}"}});
  ASSERT_TRUE(raw_sql("ALTER TABLE host_events RENAME TO host_events_gone"));
  EXPECT_FALSE(store_->apply_writes(b).ok());
  ASSERT_TRUE(raw_sql("ALTER TABLE host_events_gone RENAME TO host_events"));
  EXPECT_EQ(store_->bundle_counts(sha('b'))->offered, 0);
  EXPECT_TRUE(store_->apply_writes(b).ok());
  EXPECT_EQ(store_->bundle_counts(sha('b'))->offered, 1);
}

// Schema 3 on a store written by schema 2: the bundles, hosts and rollouts stay; the bundles'
// fix ids are "not read yet" (NULL), for the API to fill from their bytes.
TEST_P(StoreTest, MigrationToFixRecordsKeepsWhatWasStored) {
  ASSERT_TRUE(store_->put_bundle(bundle('a', 1), "old bytes").ok());
  ASSERT_TRUE(store_->create_token({"t_1", "enrollment", "", "", "web", {}, 0, 0, 0, false, 10}, "h").ok());
  ASSERT_TRUE(store_->enroll_host("h", host("h_1"), "cred1", 50)->has_value());
  RolloutRecord r;
  r.id = "r_1";
  r.bundle_sha256 = sha('a');
  r.stages = {{100, 0, 1}};
  ASSERT_TRUE(store_->create_rollout(r).ok());
  // Back to what schema 2 had.
  ASSERT_TRUE(raw_sql("DROP TABLE fix_kernels"));
  ASSERT_TRUE(raw_sql("DROP TABLE fixes"));
  ASSERT_TRUE(raw_sql("DROP TABLE fix_records"));
  ASSERT_TRUE(raw_sql("ALTER TABLE bundles DROP COLUMN fix_ids"));
  ASSERT_TRUE(raw_sql("ALTER TABLE rollouts DROP COLUMN fix_id"));
  ASSERT_TRUE(raw_sql("ALTER TABLE rollouts DROP COLUMN bundles"));
  ASSERT_TRUE(raw_sql("DELETE FROM schema_version WHERE version = 3"));
  auto again = reopen();
  ASSERT_TRUE(again.ok()) << again.error().message();
  store_ = std::move(again).value();
  EXPECT_EQ(*store_->schema_version(), 3);
  auto b = store_->get_bundle(sha('a'));
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_FALSE((*b)->fix_ids.has_value());
  EXPECT_EQ(**store_->get_bundle_content(sha('a')), "old bytes");
  EXPECT_TRUE(store_->get_host("h_1")->has_value());
  auto kept = *store_->get_rollout("r_1");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->all_bundles(), std::vector<std::string>{sha('a')});  // a bundle rollout, as before
  ASSERT_TRUE(store_->set_bundle_fix_ids(sha('a'), {"CVE-1", "NR-2"}).ok());
  EXPECT_EQ(*(*store_->get_bundle(sha('a')))->fix_ids, (std::vector<std::string>{"CVE-1", "NR-2"}));
  EXPECT_TRUE(store_->list_fixes()->empty());
}

TEST_P(StoreTest, BundleFixIds) {
  auto b = bundle('c', 3);
  b.fix_ids = std::vector<std::string>{"CVE-9"};
  ASSERT_TRUE(store_->put_bundle(b, "x").ok());
  EXPECT_EQ(*(*store_->get_bundle(sha('c')))->fix_ids, std::vector<std::string>{"CVE-9"});
  auto e = bundle('d', 3);
  e.fix_ids = std::vector<std::string>{};
  ASSERT_TRUE(store_->put_bundle(e, "y").ok());
  auto got = store_->get_bundle(sha('d'));
  ASSERT_TRUE((*got)->fix_ids.has_value());
  EXPECT_TRUE((*got)->fix_ids->empty());
}

StoredFixRecord fix_record(const std::string& sha256, const std::string& description,
                           std::vector<std::tuple<std::string, std::string, std::string>> kernels) {
  StoredFixRecord r;
  r.sha256 = sha256;
  r.record = "{\"record\": \"" + sha256 + "\"}";
  r.signature = "noreboot-ed25519-signature-v1 0011223344556677 AAAA";
  r.signer_key_id = "0011223344556677";
  r.created_at = 700;
  r.fixes = {{"CVE-2026-1", description, 700}};
  for (const auto& [release, outcome, bundle] : kernels)
    r.kernels.push_back({"CVE-2026-1", release, "6.1.1-1", outcome, bundle, bundle.empty() ? "" : kBuild,
                         bundle.empty() ? 0 : 5, bundle.empty() ? "why" : "", sha256});
  return r;
}

TEST_P(StoreTest, FixRecordsMustAgree) {
  auto first = fix_record(sha('1'), "nfsd", {{"k1", "built", sha('a')}, {"k2", "already_fixed", ""}});
  auto put = store_->put_fix_record(first);
  ASSERT_TRUE(put.ok()) << put.error().message();
  EXPECT_TRUE(*put);
  EXPECT_FALSE(*store_->put_fix_record(first));  // the same record again: nothing new
  // Another bundle for k1: refused, nothing stored.
  auto other_bundle = store_->put_fix_record(fix_record(sha('2'), "nfsd", {{"k1", "built", sha('b')}, {"k3", "built", sha('c')}}));
  ASSERT_FALSE(other_bundle.ok());
  EXPECT_EQ(other_bundle.error().code(), Errc::conflict);
  EXPECT_NE(other_bundle.error().message().find("kernel k1"), std::string::npos) << other_bundle.error().message();
  EXPECT_FALSE(store_->get_fix_record(sha('2'))->has_value());
  // Another outcome for k2: refused.
  auto other_outcome = store_->put_fix_record(fix_record(sha('3'), "nfsd", {{"k2", "does_not_apply", ""}}));
  ASSERT_FALSE(other_outcome.ok());
  EXPECT_EQ(other_outcome.error().code(), Errc::conflict);
  // Another description: refused.
  auto other_text = store_->put_fix_record(fix_record(sha('4'), "nfsd, really", {{"k4", "built", sha('d')}}));
  ASSERT_FALSE(other_text.ok());
  EXPECT_NE(other_text.error().message().find("describe"), std::string::npos);
  EXPECT_EQ(store_->fix_kernels("CVE-2026-1")->size(), 2u);
  // A record that agrees on k1 and adds k5: stored.
  auto more = store_->put_fix_record(fix_record(sha('5'), "nfsd", {{"k1", "built", sha('a')}, {"k5", "refused", ""}}));
  ASSERT_TRUE(more.ok()) << more.error().message();
  EXPECT_TRUE(*more);
  auto rows = store_->fix_kernels("CVE-2026-1");
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].record_sha256, sha('1'));  // k1 keeps the record that first said so
  EXPECT_EQ((*rows)[2].release, "k5");
  EXPECT_EQ((*rows)[2].outcome, "refused");
  EXPECT_EQ(store_->fix_kernels("")->size(), 3u);
  EXPECT_TRUE(store_->fix_kernels("CVE-0")->empty());
  // A backport: k5 could not be built, a later record builds it. Stored, k5 now names it; a
  // record that takes the bundle away again is refused.
  auto backport = store_->put_fix_record(fix_record(sha('6'), "nfsd", {{"k5", "built", sha('e')}}));
  ASSERT_TRUE(backport.ok()) << backport.error().message();
  rows = store_->fix_kernels("CVE-2026-1");
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[2].outcome, "built");
  EXPECT_EQ((*rows)[2].bundle_sha256, sha('e'));
  EXPECT_EQ((*rows)[2].record_sha256, sha('6'));
  auto downgrade = store_->put_fix_record(fix_record(sha('7'), "nfsd", {{"k5", "does_not_apply", ""}}));
  ASSERT_FALSE(downgrade.ok());
  EXPECT_EQ(downgrade.error().code(), Errc::conflict);
  auto already = store_->put_fix_record(fix_record(sha('8'), "nfsd", {{"k2", "built", sha('f')}}));
  ASSERT_FALSE(already.ok()) << "already_fixed must not become built";
  auto fixes = store_->list_fixes();
  ASSERT_EQ(fixes->size(), 1u);
  EXPECT_EQ((*fixes)[0].description, "nfsd");
  auto stored = store_->get_fix_record(sha('1'));
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->record, first.record);
  EXPECT_EQ((*stored)->signature, first.signature);
}

TEST_P(StoreTest, HostsByKernelAndApplied) {
  ASSERT_TRUE(store_->create_token({"t_1", "enrollment", "", "", "web", {}, 0, 0, 0, false, 10}, "h").ok());
  for (const char* id : {"h_1", "h_2", "h_3"})
    ASSERT_TRUE(store_->enroll_host("h", host(id), std::string("c") + id, 50)->has_value());
  auto h = host("h_2");
  h.applied = api::AppliedPatch{"nr_fix", 4, sha('a')};
  ASSERT_TRUE(StoreOracle(*store_).update_host_status(h).ok());
  auto rows = store_->hosts_by_kernel_and_applied();
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  std::int64_t none = 0, applied = 0;
  for (const auto& r : *rows) (r.applied_sha256.empty() ? none : applied) += r.n;
  EXPECT_EQ(none, 2);
  EXPECT_EQ(applied, 1);
}

// The fix page's reads: report times per bundle, and a rollout's audit entries (matched
// literally: '_' and '%' in the text are not wildcards).
TEST_P(StoreTest, OutcomeTimesAndAuditMentioning) {
  ASSERT_TRUE(StoreOracle(*store_).record_offer("h_1", sha('a'), 10).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_outcome("h_2", sha('a'), "failed", 30).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_outcome("h_3", sha('b'), "applied", 20).ok());
  ASSERT_TRUE(StoreOracle(*store_).record_outcome("h_4", sha('c'), "applied", 5).ok());  // another bundle
  auto times = store_->outcome_times({sha('a'), sha('b')});
  ASSERT_TRUE(times.ok()) << times.error().message();
  ASSERT_EQ(times->size(), 2u);
  EXPECT_EQ((*times)[0].time, 20);
  EXPECT_EQ((*times)[0].outcome, "applied");
  EXPECT_EQ((*times)[1].time, 30);
  EXPECT_EQ((*times)[1].outcome, "failed");
  EXPECT_TRUE(store_->outcome_times({})->empty());

  ASSERT_TRUE(store_->add_audit({1, "a", "rollout.create", R"({"id":"r_00ff"})"}).ok());
  ASSERT_TRUE(store_->add_audit({2, "a", "pin.set", R"({"group":"r_00ff"})"}).ok());
  ASSERT_TRUE(store_->add_audit({3, "server", "rollout.halt", R"({"rollout":"r_00ff"})"}).ok());
  ASSERT_TRUE(store_->add_audit({4, "a", "rollout.halt", R"({"id":"rX00ff"})"}).ok());  // '_' is literal
  ASSERT_TRUE(store_->add_audit({5, "a", "rollout.resume", R"({"id":"r_00ff"})"}).ok());
  auto mine = store_->audit_mentioning("rollout.", "r_00ff", 100);
  ASSERT_TRUE(mine.ok()) << mine.error().message();
  ASSERT_EQ(mine->size(), 3u);
  EXPECT_EQ((*mine)[0].action, "rollout.create");
  EXPECT_EQ((*mine)[1].time, 3);
  EXPECT_EQ((*mine)[2].action, "rollout.resume");
  auto newest = store_->audit_mentioning("rollout.", "r_00ff", 2);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].time, 3);
  EXPECT_TRUE(store_->audit_mentioning("rollout.", "100%", 10)->empty());
}

// The automatic halt: the rollout's state and its bundles' block commit together. With the
// failpoint between the two statements failing the transaction, neither is written (the old
// code wrote "halted" and left the bundle offered); without it, both are.
TEST_P(StoreTest, HaltAndBlockCommitTogether) {
  ASSERT_TRUE(store_->put_bundle(bundle('a', 1), "bytes").ok());
  RolloutRecord r;
  r.id = "r_1";
  r.bundle_sha256 = sha('a');
  r.stages = {{100, 0, 0}};
  ASSERT_TRUE(store_->create_rollout(r).ok());
  RolloutRecord halted = r;
  halted.state = RolloutState::halted;
  halted.halt_reason = "1 failed hosts exceed the failure budget of 0";
  ::setenv("NOREBOOT_FAILPOINTS", "store.halt.between_writes=error", 1);
  auto failed = store_->update_rollout_and_block(r, halted, {sha('a')}, true);
  ::unsetenv("NOREBOOT_FAILPOINTS");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ((*store_->get_rollout("r_1"))->state, RolloutState::running);
  EXPECT_FALSE((*store_->get_bundle(sha('a')))->blocked);

  auto wrote = store_->update_rollout_and_block(r, halted, {sha('a')}, true);
  ASSERT_TRUE(wrote.ok()) << wrote.error().message();
  EXPECT_TRUE(*wrote);
  EXPECT_EQ((*store_->get_rollout("r_1"))->state, RolloutState::halted);
  auto b = *store_->get_bundle(sha('a'));
  EXPECT_TRUE(b->blocked);
  EXPECT_EQ(b->blocked_reason, halted.halt_reason);
  // A lost compare-and-set writes nothing, the block included.
  RolloutRecord resumed = halted;
  resumed.state = RolloutState::running;
  resumed.halt_reason.clear();
  EXPECT_FALSE(*store_->update_rollout_and_block(r, resumed, {sha('a')}, false));
  EXPECT_TRUE((*store_->get_bundle(sha('a')))->blocked);
  // Resuming unblocks in the same transaction.
  EXPECT_TRUE(*store_->update_rollout_and_block(halted, resumed, {sha('a')}, false));
  EXPECT_FALSE((*store_->get_bundle(sha('a')))->blocked);
  EXPECT_EQ((*store_->get_rollout("r_1"))->state, RolloutState::running);
}

// A rollout awaiting approval keeps that state, and approving it is a compare-and-set: of two
// servers approving the same rollout, one writes and the other is told it lost.
TEST_P(StoreTest, AwaitingApprovalRoundTripsAndIsApprovedOnce) {
  ASSERT_TRUE(store_->put_bundle(bundle('a', 1), "bytes").ok());
  RolloutRecord r;
  r.id = "r_2";
  r.fix_id = "CVE-2026-99362";
  r.bundles = {sha('a')};
  r.stages = {{1, 600, 0}, {100, 0, 0}};
  r.state = RolloutState::awaiting_approval;
  r.created_at = r.stage_started_at = 100;
  ASSERT_TRUE(store_->create_rollout(r).ok());
  auto got = *store_->get_rollout("r_2");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, RolloutState::awaiting_approval);
  EXPECT_EQ((*store_->list_rollouts())[0].state, RolloutState::awaiting_approval);
  RolloutRecord approved = *got;
  approved.state = RolloutState::running;
  approved.stage_started_at = 200;
  EXPECT_TRUE(*store_->update_rollout(*got, approved));
  EXPECT_FALSE(*store_->update_rollout(*got, approved));  // the second approval loses
  EXPECT_EQ((*store_->get_rollout("r_2"))->state, RolloutState::running);
  EXPECT_EQ((*store_->get_rollout("r_2"))->stage_started_at, 200);
}

TEST_P(StoreTest, RevokedHostCredentialNoLongerAuthenticates) {
  TokenRecord t{"t_1", "enrollment", "", "", "web", {}, 0, 0, 0, false, 10};
  ASSERT_TRUE(store_->create_token(t, "thash").ok());
  ASSERT_TRUE(store_->enroll_host("thash", host("h_1"), "cred1", 100)->has_value());
  ASSERT_TRUE(store_->enroll_host("thash", host("h_2"), "cred2", 100)->has_value());
  auto gone = store_->revoke_host("h_1", 200);
  ASSERT_TRUE(gone.ok()) << gone.error().message();
  EXPECT_TRUE(*gone);
  EXPECT_FALSE(store_->find_host_by_credential("cred1")->has_value());
  EXPECT_TRUE(store_->find_host_by_credential("cred2")->has_value());
  auto h = *store_->get_host("h_1");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->state, "revoked");
  EXPECT_EQ(store_->host_history("h_1", 1)->at(0).kind, "revoked");
  EXPECT_FALSE(*store_->revoke_host("h_404", 200));
  // Revoking twice is harmless (the stored marker, "revoked:<id>", is no SHA-256 hex: no
  // credential the server hashes can ever match it).
  EXPECT_TRUE(*store_->revoke_host("h_1", 300));
  EXPECT_FALSE(store_->find_host_by_credential("cred1")->has_value());
}

TEST_P(StoreTest, LastAdminTokenCannotBeRevoked) {
  ASSERT_TRUE(store_->create_token({"t_a1", "admin", "admin", "one", "", {}, 0, 0, 0, false, 1}, "a1").ok());
  ASSERT_TRUE(store_->create_token({"t_a2", "admin", "admin", "two", "", {}, 0, 0, 0, false, 1}, "a2").ok());
  ASSERT_TRUE(store_->create_token({"t_r", "admin", "read", "viewer", "", {}, 0, 0, 0, false, 1}, "r").ok());
  ASSERT_TRUE(store_->create_token({"t_x", "admin", "admin", "old", "", {}, 50, 0, 0, false, 1}, "x").ok());
  EXPECT_EQ(*store_->count_usable_admins(100), 2);  // t_x expired at 50
  EXPECT_EQ(*store_->revoke_admin_token("t_a1", 100), Store::AdminRevoke::revoked);
  EXPECT_EQ(*store_->revoke_admin_token("t_a2", 100), Store::AdminRevoke::last_admin);
  EXPECT_FALSE((*store_->find_token("a2"))->revoked);
  EXPECT_EQ(*store_->revoke_admin_token("t_r", 100), Store::AdminRevoke::revoked);  // read tokens: always
  EXPECT_EQ(*store_->revoke_admin_token("t_none", 100), Store::AdminRevoke::not_found);
  EXPECT_EQ(*store_->count_usable_admins(100), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param == "sqlite" ? "Sqlite" : "Postgres"; });

}  // namespace
}  // namespace noreboot::server
