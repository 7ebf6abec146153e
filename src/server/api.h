// Api: the server's behaviour behind HTTP — routing, authentication, the v1 handlers, long
// polls, the rollout ticker, metrics. It knows nothing of sockets: http_server.cc hands it
// HttpRequests and a Respond callback, and calls tick() periodically.
//
// Long polls: a check-in with ?wait=S that has nothing to offer is parked in a table of
// waiters (host, deadline, respond callback); no thread waits. Anything that can create an
// offer (publish, rollout create/promote/resume/advance, pin changes) bumps a generation;
// tick() then re-evaluates every parked host against the new snapshot and answers those
// with an offer, and answers "nothing" to those whose deadline passed.
//
// Agent writes (check-in status, offers, reports, history) are group-committed
// (group_commit.h): a handler queues them and answers once they are durable. Host
// credentials are cached in memory (host_cache.h), so an agent request reads nothing.
//
// Decisions read a FleetSnapshot (rollouts, bundle metadata, pins) cached in memory and
// reloaded when this server changed something or after `snapshot_ttl` seconds (another server
// sharing the database may have). Rollout advancement runs in tick() and writes with
// compare-and-set, so several servers on one PostgreSQL advance a rollout once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/fix_record.h"
#include "server/http_types.h"
#include "server/rollout.h"
#include "server/store.h"

namespace noreboot::server {

// What publishing learned from a verified bundle.
struct PublishedBundle {
  std::string patch_name;
  std::int64_t sequence = 0;
  api::KernelId kernel;
  std::string signer_key_id;
  std::vector<std::string> fix_ids;  // the manifest's fixes (cumulative: every earlier one too)
};
// Checks a .nrp is well formed and signed by a trusted publisher key (bundle_check.cc).
using BundleVerifier = std::function<Result<PublishedBundle>(const std::string& nrp_bytes)>;
// Checks a fix record (fix.json bytes, fix.sig text) is well formed and signed by a trusted
// publisher key, the same keys bundles are checked against (bundle_check.cc).
using FixRecordVerifier =
    std::function<Result<VerifiedFixRecord>(const std::string& record, const std::string& signature)>;

struct ApiOptions {
  std::int64_t checkin_interval = 60;   // next_checkin_seconds told to agents
  std::int64_t max_wait = 300;          // longest ?wait= accepted
  std::int64_t snapshot_ttl = 2;        // seconds before re-reading rollouts/pins from the store
  std::int64_t host_cache_ttl = 300;    // seconds before re-reading a cached host (host_cache.h)
  std::int64_t commit_linger_us = 2000; // group commit: wait this long for more writes (group_commit.h)
  std::size_t max_json_body = 64 * 1024;
  std::size_t max_bundle_body = 64 * 1024 * 1024;
  bool secure_cookies = false;          // set when serving TLS
};

class Api {
 public:
  Api(Store& store, BundleVerifier verifier, FixRecordVerifier fix_verifier, ApiOptions options,
      std::function<std::int64_t()> clock);
  // Without a fix record verifier: POST /v1/fixes is refused (every record).
  Api(Store& store, BundleVerifier verifier, ApiOptions options, std::function<std::int64_t()> clock);
  ~Api();

  // Handles one request; calls respond exactly once (maybe later, for long polls).
  void handle(HttpRequest req, Respond respond);
  // The largest body accepted for this method + path (the HTTP layer enforces it while reading).
  std::size_t body_limit(const std::string& method, const std::string& path) const;
  // Uploads (POST /v1/bundles, POST /v1/fixes): large bodies that only an admin may send. The
  // HTTP layer calls admit() with the request line and headers (no body) for these before it
  // reads a byte of the body, and caps how many it reads at once.
  bool is_upload(const std::string& method, const std::string& path) const;
  // An answer to send instead of reading the body (401/403 without a valid admin token), or
  // nullopt: read the body and call handle().
  std::optional<HttpResponse> admit(const HttpRequest& head);
  // The client of `connection` went away: drop its parked long poll, if any (no answer).
  void abandon(std::uint64_t connection);
  // Counts a request the HTTP layer answered itself (413, 431, 503) in the metrics.
  void count_request(const std::string& path, int status);
  // Expires long polls, re-evaluates them after changes, advances rollouts. Call every ~250 ms.
  void tick();
  // Answers every parked long poll with "nothing" and waits for queued writes to be committed
  // and answered (shutdown: call it while the HTTP layer can still take responses).
  void release_waiters();
  // Waits until every write queued so far is committed and its request answered.
  void flush_writes();
  // Called (from any thread) when tick() should run now rather than at the next period: a
  // publish, a rollout change, a failure report. Empty: wait for the period.
  void set_wakeup(std::function<void()> wakeup);

  // Creates an admin token when the store has no usable admin-role token (first start, or a
  // store whose admin tokens all expired); returns it ("" if there was one). `keep`, when
  // given, runs before the token is committed (main writes DATA/admin.token there): a crash
  // or a full disk leaves either no token or a token that is also on disk, never a committed
  // token nobody holds.
  Result<std::string> bootstrap_admin_token(const std::function<Status(const std::string&)>& keep = {});

  std::size_t waiting() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend std::vector<std::string> api_route_patterns();  // route_labels.h
  friend std::vector<std::string> dashboard_route_patterns();
};

}  // namespace noreboot::server
