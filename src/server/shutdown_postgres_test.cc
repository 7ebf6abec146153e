// Stopping a server while PostgreSQL notifications arrive (issue 16 item 1).
//
// The store's change listener runs its own thread and calls back into Api::Impl for every
// NOTIFY another server sends: it compares the origin with `instance_id`, sets
// `remote_changed` and calls `wake()`, which locks `wake_mu` and runs `wakeup`. Those members
// must outlive the thread. Api::Impl declares the listener after them (members die in reverse
// order) and ~Api resets it first; a build where either is undone frees them while the
// thread still runs. This test makes that window wide instead of hoping to hit it: the wakeup
// it installs sleeps, then touches state it owns on the heap, so a listener joined after the
// std::function died reads freed memory, which ASan reports (scripts/test runs this test in
// its ASan+UBSan build). Without ASan it still checks that no callback runs after ~Api.
//
// Each round, as `noreboot-server` shuts down: an Api and its HttpServer run on a real
// PostgreSQL while a second store (another server on the same database) sends notifications
// in a loop; the HTTP server is stopped (SIGTERM's path); the probe wakeup is installed and
// seen running; then the Api is destroyed with notifications still arriving.
//
// Needs NOREBOOT_PG_CONNINFO (ctest runs it under tests/with-postgres: server_shutdown_postgres).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include "server/api.h"
#include "server/http_server.h"
#include "server/store.h"

namespace noreboot::server {
namespace {

bool pg_exec(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << PQerrorMessage(c);
    PQclear(r);
  } else {
    ADD_FAILURE() << PQerrorMessage(c);
  }
  PQfinish(c);
  return ok;
}

// Waits up to `seconds` for `done`; false if it never held.
template <typename F>
bool wait_until(F done, int seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(ServerShutdown, WhileNotificationsArriveTheListenerStopsBeforeWhatItUses) {
  const char* ci = std::getenv("NOREBOOT_PG_CONNINFO");
  ASSERT_NE(ci, nullptr) << "NOREBOOT_PG_CONNINFO is not set: run this test under tests/with-postgres "
                            "(ctest -R server_shutdown_postgres)";
  const std::string base = ci;
  const std::string db = "nr_shutdown_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
  ASSERT_TRUE(pg_exec(base + " dbname=postgres", "CREATE DATABASE " + db));
  {
    auto ours = open_postgres_store(base + " dbname=" + db, 2);
    ASSERT_TRUE(ours.ok()) << ours.error().message();
    auto other = open_postgres_store(base + " dbname=" + db, 1);
    ASSERT_TRUE(other.ok()) << other.error().message();

    // The other server: a notification after another, until the test ends.
    std::atomic<bool> stop_notifying{false};
    std::atomic<long> sent{0};
    std::thread notifier([&] {
      while (!stop_notifying) {
        if ((*other)->notify_change("the-other-server")) sent++;
        else std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });

    BundleVerifier refuse_all = [](const std::string&) -> Result<PublishedBundle> {
      return Error(Errc::refused, "this test publishes nothing");
    };
    constexpr int kRounds = 5;
    for (int round = 0; round < kRounds; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      auto api = std::make_unique<Api>(**ours, refuse_all, ApiOptions{}, [] { return std::int64_t{1'800'000'000}; });

      // The server runs and is stopped while notifications arrive.
      HttpServerOptions hopt;
      hopt.handle_signals = false;
      auto srv = HttpServer::create(*api, hopt);
      ASSERT_TRUE(srv.ok()) << srv.error().message();
      std::thread serving([&] { (*srv)->run(); });
      long before = sent.load();
      ASSERT_TRUE(wait_until([&] { return sent.load() > before + 20; }, 60)) << "no notifications were sent";
      (*srv)->stop();
      serving.join();
      srv->reset();

      // A wakeup that is still installed when the Api goes: it sleeps, then touches what it
      // owns on the heap (freed with the std::function if the listener outlives it).
      auto calls = std::make_shared<std::atomic<long>>(0);
      std::atomic<long> seen{0};
      api->set_wakeup([calls, &seen, padding = std::string(64, 'x')] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (padding.size() == 64) ++*calls;
        seen = calls->load();
      });
      ASSERT_TRUE(wait_until([&] { return seen.load() >= 3; }, 60))
          << "the listener delivered no notifications (" << sent.load() << " sent)";
      api.reset();  // notifications keep coming
      long after = seen.load();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      EXPECT_EQ(seen.load(), after) << "a notification ran the wakeup after the Api was destroyed";
    }
    stop_notifying = true;
    notifier.join();
    EXPECT_GT(sent.load(), 100);
  }
  pg_exec(base + " dbname=postgres", "DROP DATABASE " + db);
}

}  // namespace
}  // namespace noreboot::server
