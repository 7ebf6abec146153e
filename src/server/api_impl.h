// Internals of Api shared by its source files (api.cc: agents, long polls, ticker;
// api_routes.cc: the route table and dispatch; api_<resource>.cc: the admin endpoints by
// resource; dashboard.cc: HTML). Not a public interface.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/bytes.h"   // sha256_hex, random_hex, is_lower_hex
#include "server/api.h"
#include "server/dashboard_session.h"
#include "server/fix_groups.h"
#include "server/group_commit.h"
#include "server/host_cache.h"
#include "server/route_table.h"

namespace noreboot::server {

using nlohmann::json;

// Like NR_TRY / NR_TRY_STATUS, but return an HTTP error response from a handler.
#define NR_TRY_RESP(decl, expr)                                               \
  auto NR_CONCAT(nr_resp_, __LINE__) = (expr);                                \
  if (!NR_CONCAT(nr_resp_, __LINE__).ok())                                    \
    return error_response(fail_from(NR_CONCAT(nr_resp_, __LINE__).error()));  \
  decl = std::move(NR_CONCAT(nr_resp_, __LINE__)).value()
#define NR_TRY_RESP_STATUS(expr)                                              \
  do {                                                                        \
    auto nr_resp_st_ = (expr);                                                \
    if (!nr_resp_st_.ok()) return error_response(fail_from(nr_resp_st_.error())); \
  } while (0)

struct DashboardView;  // a logged-in dashboard request (dashboard_html.h)

// A host authenticated by its credential (auth_host).
struct AuthedHost {
  std::string credential_hash;
  HostRecord host;
};

// One request as a route's handler sees it: the placeholders its pattern captured and the
// caller the router authenticated for the route's role (api_routes.cc).
struct RouteCall {
  const HttpRequest& req;
  Captures captures;
  const TokenRecord* actor = nullptr;  // reader and admin routes; host_or_reader with a token
  const AuthedHost* host = nullptr;    // host routes; host_or_reader with a credential
  const std::string& capture(std::string_view name) const;
};

// A failed request: status + JSON error code + message.
struct Fail {
  int status;
  std::string code;
  std::string message;
};

HttpResponse json_response(int status, const json& body);
HttpResponse error_response(const Fail& f);
Fail fail_from(const Error& e);  // maps Errc to a status
std::string html_escape(std::string_view s);
// Answers shared by the admin handlers.
HttpResponse bad_request(const std::string& msg);          // 400 invalid_input
HttpResponse not_found_response(const std::string& msg);   // 404 not_found
// s is `prefix` + exactly hex_len lowercase hex digits (host, rollout and token ids).
bool id_ok(std::string_view s, std::string_view prefix, std::size_t hex_len);

json kernel_to_json(const api::KernelId& k);
json host_to_json(const HostRecord& h);
json bundle_to_json(const BundleRecord& b);

struct Metrics {
  std::mutex mu;
  std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (route, status)
  std::atomic<std::uint64_t> checkins{0}, offers{0}, published{0}, reports{0}, longpoll_answered{0};
  std::atomic<std::uint64_t> longpoll_abandoned{0}, longpoll_replaced{0};
  void count(const std::string& route, int status) {
    std::lock_guard lock(mu);
    ++requests[{route, status}];
  }
};

struct Api::Impl {
  Store& store;
  BundleVerifier verifier;
  FixRecordVerifier fix_verifier;
  ApiOptions opt;
  std::function<std::int64_t()> now;
  Metrics metrics;

  // Snapshot of rollouts, bundles, pins.
  std::mutex snap_mu;
  std::shared_ptr<const FleetSnapshot> snap;
  std::int64_t snap_loaded_at = 0;
  std::uint64_t snap_generation = ~0ULL;
  std::string snap_fingerprint;
  std::atomic<std::uint64_t> generation{0};  // bumped by every change that can create offers
  std::atomic<bool> evaluate_rollouts_now{false};
  std::int64_t last_rollout_eval = 0;

  // Failure reports committed by this server, so decisions see them before the next snapshot.
  std::mutex failed_mu;
  std::set<std::pair<std::string, std::string>> local_failed;  // (host id, bundle sha256)
  // Failure reports queued and not yet committed: the rollout ticker flushes them first, so
  // a stage never advances past a failure the server has already received.
  std::atomic<int> pending_failures{0};

  HostCache host_cache;

  // Long polls. A waiter remembers the generation its decision was made at; the ticker
  // decides again for every waiter older than the current generation. Waiters are keyed by
  // their connection (abandon() drops one whose client left), and a host has at most one:
  // parking a newer poll answers the older one "nothing" at once (waiter_of_host).
  struct Waiter {
    HostRecord host;
    std::int64_t deadline;
    std::uint64_t generation;
    Respond respond;
    std::uint64_t key = 0;  // the connection id, or a unique id above 2^63 without one
  };
  mutable std::mutex wait_mu;
  std::unordered_map<std::uint64_t, Waiter> waiters;
  std::unordered_map<std::string, std::uint64_t> waiter_of_host;  // host id -> key in waiters
  std::uint64_t next_waiter = 1;
  // Puts w in the table (wait_mu held). A waiter of the same host already there is moved to
  // `displaced` when `newest` (a new poll), else w itself is (the ticker putting back an older one).
  void insert_waiter_locked(Waiter w, bool newest, std::vector<Waiter>& displaced);
  // Removes the waiter at `it` (wait_mu held), advancing `it` past it.
  Waiter take_waiter_locked(std::unordered_map<std::uint64_t, Waiter>::iterator& it);
  // Answers the host's parked long poll, if it has one here, with 401 at once: its credential
  // was just revoked, and a poll that waited out its deadline could still carry an offer.
  void drop_parked_poll(const std::string& host_id);

  // Bundle bytes, immutable once published.
  std::mutex cache_mu;
  std::map<std::string, std::shared_ptr<const std::string>> content_cache;
  std::size_t cache_bytes = 0;

  // The dashboard's logged-in browsers (dashboard_session.h).
  DashboardSessions sessions;

  std::mutex wake_mu;
  std::function<void()> wakeup;  // asks the HTTP layer for an early tick()
  void wake() {
    std::lock_guard lock(wake_mu);
    if (wakeup) wakeup();
  }
  // This server's id in change notifications (it ignores its own).
  std::string instance_id;
  std::atomic<bool> remote_changed{false};  // another server notified a change: reload the snapshot

  // Last data members: destroyed first, so callbacks they still run find every other member
  // alive. Keep them last: the listener's thread calls wake() and reads instance_id and
  // remote_changed (declared above, so destroyed after it); ~Api also resets it first.
  GroupCommit committer;
  std::unique_ptr<ChangeListener> listener;

  Impl(Store& s, BundleVerifier v, FixRecordVerifier fv, ApiOptions o, std::function<std::int64_t()> c)
      : store(s), verifier(std::move(v)), fix_verifier(std::move(fv)), opt(o), now(std::move(c)), host_cache(o.host_cache_ttl),
        committer([&s](const WriteBatch& b) { return s.apply_writes(b); },
                  {std::chrono::microseconds(o.commit_linger_us), 20000}) {}

  void changed() {
    generation.fetch_add(1);
    (void)store.notify_change(instance_id);  // best effort: the others also reload every snapshot_ttl
    wake();
  }
  Result<std::shared_ptr<const FleetSnapshot>> snapshot();

  // Auth. On failure they fill `fail` and return nullopt.
  std::optional<AuthedHost> auth_host(const HttpRequest& req, Fail& fail);
  std::optional<TokenRecord> auth_admin(const HttpRequest& req, bool need_write, Fail& fail);
  std::string bearer(const HttpRequest& req) const;

  // The route table (api_routes.cc): authenticates for the route's role, then calls its handler.
  using Handler = std::function<void(Impl&, const RouteCall&, Respond&)>;
  static const RouteTable<Handler>& routes();
  void route(const HttpRequest& req, Respond respond);

  // Operations and agent side (api.cc).
  HttpResponse healthz_get(const RouteCall& call);
  HttpResponse metrics_get(const RouteCall& call);
  void checkin(const RouteCall& call, Respond respond);
  HttpResponse enroll(const RouteCall& call);
  void report(const RouteCall& call, Respond respond);
  HttpResponse download(const RouteCall& call);
  // What to offer this host now (no write: the caller queues the offer with its other writes).
  std::optional<api::Offer> decide(const HostRecord& host, const FleetSnapshot& fleet);
  void park(HostRecord host, std::int64_t deadline, std::uint64_t decided_at, std::uint64_t connection,
            Respond respond);
  std::string checkin_body(const HostRecord& host, const std::optional<api::Offer>& offer) const;
  void evaluate_rollouts();

  // Admin side, one file per resource; every change is audited (api_admin.cc).
  void audit(const TokenRecord& actor, const std::string& action, const json& detail);
  // api_bundles.cc
  HttpResponse bundles_get(const RouteCall& call);
  HttpResponse bundles_post(const RouteCall& call);
  // api_rollouts.cc
  HttpResponse rollouts_get(const RouteCall& call);
  HttpResponse rollouts_post(const RouteCall& call);
  HttpResponse rollout_get(const RouteCall& call);
  HttpResponse rollout_action(const RouteCall& call, const std::string& action);  // promote, halt, resume
  Result<json> rollout_to_json(const RolloutRecord& r);
  // Outcomes summed over the rollout's bundles (a fix rollout counts across kernels).
  Result<RolloutCounts> rollout_counts(const RolloutRecord& r);
  // api_pins.cc
  HttpResponse pins_get(const RouteCall& call);
  HttpResponse pins_post(const RouteCall& call);
  HttpResponse pin_delete(const RouteCall& call);
  // api_hosts.cc
  HttpResponse hosts_get(const RouteCall& call);
  HttpResponse host_get(const RouteCall& call);
  HttpResponse host_delete(const RouteCall& call);
  // api_fleet.cc
  HttpResponse fleet_get(const RouteCall& call);
  HttpResponse audit_get(const RouteCall& call);
  HttpResponse audit_post(const RouteCall& call);
  HttpResponse fix_approve(const RouteCall& call);
  Result<json> fleet_json();
  // api_tokens.cc; kind is "enrollment" or "admin"
  HttpResponse tokens_get(const RouteCall& call, const std::string& kind);
  HttpResponse tokens_post(const RouteCall& call, const std::string& kind);
  HttpResponse token_delete(const RouteCall& call, const std::string& kind);

  // Approvals (api_approve.cc): POST /v1/rollouts/{id}/approve, POST /v1/fixes/{id}/approve.
  HttpResponse approve_rollout_request(const RolloutRecord& r, const TokenRecord& actor);
  HttpResponse approve_fix(const HttpRequest& req, const std::string& fix_id, const TokenRecord& actor);

  // Audit (api_feed_audit.cc): POST /v1/audit (entries from noreboot-feed), GET /v1/audit[?action=PREFIX].
  HttpResponse record_tool_audit(const HttpRequest& req, const TokenRecord& actor);
  HttpResponse list_audit_request(const HttpRequest& req);

  // Fixes (api_fixes.cc): POST /v1/fixes, GET /v1/fixes[/{id}], and the exposure per fix.
  HttpResponse fixes_get(const RouteCall& call);
  HttpResponse fix_get(const RouteCall& call);
  HttpResponse fixes_post(const RouteCall& call);
  // Every host group of the fleet classified once per stored fix (fix_id "") or for one fix
  // (server/fix_groups.h); the fix view and the fleet's `exposed` view both count from it.
  Result<FleetFixGroups> fix_groups(const std::string& fix_id);
  // The exposure of every stored fix (fix_id "" ) or of one, in list order.
  Result<std::vector<json>> fix_exposure(const std::string& fix_id);
  // Fills fix_ids of bundles published before the server stored them (read from their bytes).
  Status fill_bundle_fix_ids(std::vector<BundleRecord>& bundles);

  // Operations and dashboard.
  HttpResponse metrics_text();
  HttpResponse dashboard(const HttpRequest& req, const std::vector<std::string>& seg);
  struct Pages;  // the dashboard's handlers and route table (dashboard.cc)
  // The dashboard's fix pages (dashboard_fixes.cc).
  HttpResponse fix_pages(const std::vector<std::string>& seg, const DashboardView& view);
};

}  // namespace noreboot::server
