// Api: authentication, the agent endpoints, long polls and the rollout ticker.
// See api.h for the design; the route table is api_routes.cc, the admin endpoints are in
// api_<resource>.cc (api_admin.cc says which), the dashboard in dashboard.cc.
#include "server/api.h"

#include <sodium.h>

#include <algorithm>
#include <sstream>

#include "core/log.h"
#include "core/numbers.h"
#include "server/admin_tokens.h"
#include "server/api_impl.h"
#include "server/content_type.h"
#include "server/route_labels.h"
#include "server/token_prefixes.h"

namespace noreboot::server {

// ---- helpers --------------------------------------------------------------------------------

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(const Fail& f) {
  HttpResponse r;
  r.status = f.status;
  r.body = api::to_json(api::ApiError{f.code, f.message});
  if (f.status == 503) r.headers.emplace_back("Retry-After", "5");
  return r;
}

Fail fail_from(const Error& e) {
  switch (e.code()) {
    case Errc::invalid_argument:
    case Errc::invalid_input: return {400, "invalid_input", e.message()};
    case Errc::not_found: return {404, "not_found", e.message()};
    case Errc::conflict: return {409, "conflict", e.message()};
    case Errc::signature:
    case Errc::integrity:
    case Errc::refused:
    case Errc::unsupported: return {422, "refused", e.message()};
    case Errc::unavailable:
    case Errc::timeout:
    case Errc::io:
      return {503, "unavailable", "the store is unavailable, retry later (" + e.message() + ")"};
    case Errc::internal: break;
  }
  return {500, "internal", e.message()};
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

json kernel_to_json(const api::KernelId& k) {
  return {{"release", k.release}, {"version", k.version}, {"build_id", k.build_id}, {"arch", k.arch}};
}

json host_to_json(const HostRecord& h) {
  json applied = nullptr;
  if (h.applied)
    applied = {{"name", h.applied->name}, {"sequence", h.applied->sequence},
               {"bundle_sha256", h.applied->bundle_sha256}};
  return {{"id", h.id}, {"hostname", h.hostname}, {"group", h.group}, {"tags", h.tags},
          {"kernel", kernel_to_json(h.kernel)}, {"state", h.state}, {"applied", applied},
          {"last_seen", h.last_seen}, {"enrolled_at", h.enrolled_at}, {"last_error", h.last_error}};
}

json bundle_to_json(const BundleRecord& b) {
  return {{"sha256", b.sha256}, {"size", b.size}, {"patch_name", b.patch_name},
          {"sequence", b.sequence},
          {"kernel", {{"release", b.kernel_release}, {"build_id", b.kernel_build_id}, {"arch", b.arch}}},
          {"created_at", b.created_at}, {"blocked", b.blocked}, {"blocked_reason", b.blocked_reason},
          {"fixes", b.fix_ids ? json(*b.fix_ids) : json(nullptr)}};
}

namespace {

// The host as an agent's check-in or report (both carry kernel, state and applied) describes it
// at time t.
template <typename AgentBody>
HostRecord as_reported(HostRecord host, const AgentBody& body, std::int64_t t) {
  host.kernel = body.kernel;
  host.state = std::string(api::agent_state_name(body.state));
  host.applied = body.applied;
  host.last_seen = t;
  return host;
}

}  // namespace

// ---- Api ------------------------------------------------------------------------------------

Api::Api(Store& store, BundleVerifier verifier, ApiOptions options, std::function<std::int64_t()> clock)
    : Api(store, std::move(verifier),
          [](const std::string&, const std::string&) -> Result<VerifiedFixRecord> {
            return Error(Errc::refused, "this server checks no fix records (started without publisher keys for them)");
          },
          options, std::move(clock)) {}

Api::Api(Store& store, BundleVerifier verifier, FixRecordVerifier fix_verifier, ApiOptions options,
         std::function<std::int64_t()> clock)
    : impl_(std::make_unique<Impl>(store, std::move(verifier), std::move(fix_verifier), options, std::move(clock))) {
  if (sodium_init() < 0) log::error("libsodium failed to initialise");
  Impl* m = impl_.get();
  m->instance_id = random_hex(8);
  m->listener = store.listen_changes([m](const std::string& origin) {
    if (origin == m->instance_id) return;
    m->remote_changed = true;
    m->wake();
  });
}

Api::~Api() {
  // The change listener's thread calls into Impl: join it before anything else goes.
  impl_->listener.reset();
  release_waiters();
}

std::size_t Api::waiting() const {
  std::lock_guard lock(impl_->wait_mu);
  return impl_->waiters.size();
}

std::size_t Api::body_limit(const std::string& method, const std::string& path) const {
  if (method == "POST" && (path == "/v1/bundles" || path == "/v1/bundles/")) return impl_->opt.max_bundle_body;
  // A fix record (up to kFixRecordMaxBytes) in base64 inside JSON.
  if (method == "POST" && (path == "/v1/fixes" || path == "/v1/fixes/"))
    return std::max(impl_->opt.max_json_body, kFixRecordMaxBytes / 3 * 4 + 64 * 1024);
  return impl_->opt.max_json_body;
}

bool Api::is_upload(const std::string& method, const std::string& path) const {
  return method == "POST" &&
         (path == "/v1/bundles" || path == "/v1/bundles/" || path == "/v1/fixes" || path == "/v1/fixes/");
}

std::optional<HttpResponse> Api::admit(const HttpRequest& head) {
  if (!is_upload(head.method, head.path)) return std::nullopt;
  Fail f{};
  if (impl_->auth_admin(head, true, f)) {
    // A body of the wrong type is refused before it is read, like a missing token.
    const std::string length = head.header("content-length");
    const bool has_body = (!length.empty() && length != "0") || !head.header("transfer-encoding").empty();
    auto problem = content_type_problem(head, has_body, body_media_type(head.method, head.path));
    if (!problem) return std::nullopt;
    f = {415, "unsupported_media_type", *problem};
  }
  count_request(head.path, f.status);
  return error_response(f);
}

void Api::count_request(const std::string& path, int status) {
  impl_->metrics.count(route_label(split_path(path)), status);
}

void Api::abandon(std::uint64_t connection) {
  Impl& m = *impl_;
  std::optional<Impl::Waiter> gone;  // destroyed outside the lock (it holds the connection)
  {
    std::lock_guard lock(m.wait_mu);
    auto it = m.waiters.find(connection);
    if (it == m.waiters.end()) return;
    gone = m.take_waiter_locked(it);
  }
  m.metrics.longpoll_abandoned++;
}

Result<std::string> Api::bootstrap_admin_token(const std::function<Status(const std::string&)>& keep) {
  auto& s = impl_->store;
  std::int64_t t = impl_->now();
  NR_TRY(auto n, s.count_usable_admins(t));
  if (n > 0) return std::string();
  return create_admin_token(s, "bootstrap", "token.bootstrap", t, keep);
}

void Api::handle(HttpRequest req, Respond respond) {
  Impl& m = *impl_;
  auto seg = split_path(req.path);
  std::string route = route_label(seg);
  Respond counted = [&m, route, respond = std::move(respond)](HttpResponse r) {
    m.metrics.count(route, r.status);
    respond(std::move(r));
  };
  auto fail = [&](int status, const std::string& code, const std::string& msg) {
    counted(error_response({status, code, msg}));
  };

  // Paths are ids and fixed words only: anything that could walk a file tree is refused.
  if (req.path.empty() || req.path[0] != '/' || req.path.find("..") != std::string::npos ||
      req.path.find("//") != std::string::npos || req.path.find('\\') != std::string::npos ||
      req.path.find('\0') != std::string::npos)
    return fail(400, "invalid_input", "path '" + req.path.substr(0, 128) +
                                          "' contains '..', '//', '\\' or NUL; ids are plain names");
  m.route(req, std::move(counted));
}

HttpResponse Api::Impl::healthz_get(const RouteCall&) {
  auto st = store.ping();
  if (!st) return error_response({503, "unavailable", "store: " + st.error().message()});
  return json_response(200, {{"status", "ok"}});
}

HttpResponse Api::Impl::metrics_get(const RouteCall&) { return metrics_text(); }

void Api::release_waiters() {
  Impl& m = *impl_;
  std::vector<Impl::Waiter> all;
  {
    std::lock_guard lock(m.wait_mu);
    for (auto& [id, w] : m.waiters) all.push_back(std::move(w));
    m.waiters.clear();
    m.waiter_of_host.clear();
  }
  for (auto& w : all) {
    HttpResponse r;
    r.body = m.checkin_body(w.host, std::nullopt);
    w.respond(std::move(r));
  }
  m.committer.flush();  // queued writes: commit them and answer their requests now
}

void Api::flush_writes() { impl_->committer.flush(); }

void Api::set_wakeup(std::function<void()> wakeup) {
  std::lock_guard lock(impl_->wake_mu);
  impl_->wakeup = std::move(wakeup);
}

void Api::tick() {
  Impl& m = *impl_;
  std::int64_t t = m.now();
  if (m.evaluate_rollouts_now.exchange(false) || t != m.last_rollout_eval) {
    m.last_rollout_eval = t;
    // Every failure report received so far must be counted before a stage may advance.
    if (m.pending_failures.load() > 0) m.committer.flush();
    m.evaluate_rollouts();
  }
  std::uint64_t gen = m.generation.load();  // before the snapshot: it is at least this fresh
  auto snap = m.snapshot();                  // also notices changes made by other servers
  if (snap.ok()) gen = std::max(gen, (*snap)->generation);

  // Take out the waiters decided at an older generation (decide again) and the expired ones.
  std::vector<Impl::Waiter> redecide, expired;
  {
    std::lock_guard lock(m.wait_mu);
    for (auto it = m.waiters.begin(); it != m.waiters.end();) {
      if (snap.ok() && it->second.generation < gen)
        redecide.push_back(m.take_waiter_locked(it));
      else if (it->second.deadline <= t)
        expired.push_back(m.take_waiter_locked(it));
      else
        ++it;
    }
  }
  // Offers go out in chunks: each chunk's offers are committed together, then its hosts are
  // answered, while the next chunk is being decided.
  constexpr std::size_t kChunk = 256;
  auto offered = std::make_shared<std::vector<std::pair<Impl::Waiter, api::Offer>>>();
  WriteBatch writes;
  auto send = [&] {
    if (offered->empty()) return;
    m.committer.submit(std::move(writes), [&m, offered](const Status& st) {
      for (auto& [w, offer] : *offered) {
        if (!st) {
          w.respond(error_response(fail_from(st.error())));
          continue;
        }
        HttpResponse r;
        r.body = m.checkin_body(w.host, offer);
        m.metrics.offers++;
        m.metrics.longpoll_answered++;
        w.respond(std::move(r));
      }
    });
    writes = WriteBatch{};
    offered = std::make_shared<std::vector<std::pair<Impl::Waiter, api::Offer>>>();
  };
  std::vector<Impl::Waiter> keep;
  for (auto& w : redecide) {
    auto offer = m.decide(w.host, **snap);
    if (offer) {
      writes.outcomes.push_back({w.host.id, offer->sha256, "offered", t});
      offered->emplace_back(std::move(w), std::move(*offer));
      if (offered->size() >= kChunk) send();
    } else if (w.deadline <= t) {
      expired.push_back(std::move(w));
    } else {
      w.generation = gen;
      keep.push_back(std::move(w));
    }
  }
  send();
  if (!keep.empty()) {
    std::lock_guard lock(m.wait_mu);
    for (auto& w : keep) m.insert_waiter_locked(std::move(w), false, expired);
  }
  for (auto& w : expired) {
    HttpResponse r;
    r.body = m.checkin_body(w.host, std::nullopt);
    m.metrics.longpoll_answered++;
    w.respond(std::move(r));
  }
}

// ---- snapshot -------------------------------------------------------------------------------

Result<std::shared_ptr<const FleetSnapshot>> Api::Impl::snapshot() {
  std::lock_guard lock(snap_mu);
  std::uint64_t gen = generation.load();
  std::int64_t t = now();
  bool remote = remote_changed.exchange(false);
  if (snap && snap_generation == gen && t - snap_loaded_at < opt.snapshot_ttl && !remote) return snap;
  auto fresh = std::make_shared<FleetSnapshot>();
  NR_TRY(fresh->rollouts, store.list_rollouts());
  NR_TRY(auto bundles, store.list_bundles());
  for (auto& b : bundles) fresh->bundles.emplace(b.sha256, std::move(b));
  NR_TRY(fresh->pins, store.list_pins());
  NR_TRY(auto failed, store.failed_outcomes());
  fresh->failed.insert(failed.begin(), failed.end());
  // A change made by another server (same database) shows up as a new fingerprint.
  std::ostringstream fp;
  for (const auto& r : fresh->rollouts)
    fp << r.id << rollout_state_name(r.state) << r.current_stage << ';';
  for (const auto& [sha, b] : fresh->bundles) fp << sha.substr(0, 8) << b.blocked << ';';
  for (const auto& p : fresh->pins) fp << p.group << p.bundle_sha256 << p.until << ';';
  if (snap && fp.str() != snap_fingerprint) gen = generation.fetch_add(1) + 1;
  snap_fingerprint = fp.str();
  fresh->generation = gen;
  snap = std::move(fresh);
  snap_loaded_at = t;
  snap_generation = gen;
  return snap;
}

// ---- auth -----------------------------------------------------------------------------------

std::string Api::Impl::bearer(const HttpRequest& req) const {
  std::string h = req.header("authorization");
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) return h.substr(7);
  // Only the header: no cookie is a credential for /v1 (the dashboard's session cookie is good
  // for its pages only, dashboard_session.h), so a form posted from another site cannot act.
  return "";
}

std::optional<AuthedHost> Api::Impl::auth_host(const HttpRequest& req, Fail& fail) {
  std::string token = bearer(req);
  if (token.empty() || token.size() > 128 || !is_host_credential(token)) {
    fail = {401, "unauthorized", "send the host credential from enrollment as 'Authorization: Bearer nrh_...'"};
    return std::nullopt;
  }
  std::string hash = sha256_hex(token);
  std::int64_t t = now();
  if (auto cached = host_cache.find(hash, t)) return AuthedHost{std::move(hash), std::move(*cached)};
  auto h = store.find_host_by_credential(hash);
  if (!h) {
    fail = fail_from(h.error());
    return std::nullopt;
  }
  if (!h->has_value()) {
    fail = {401, "unauthorized", "unknown or revoked host credential: enroll again (noreboot enroll)"};
    return std::nullopt;
  }
  host_cache.put(hash, **h, t);
  return AuthedHost{std::move(hash), std::move(**h)};
}

std::optional<TokenRecord> Api::Impl::auth_admin(const HttpRequest& req, bool need_write, Fail& fail) {
  std::string token = bearer(req);
  if (token.empty() || token.size() > 128 || !is_admin_token(token)) {
    fail = {401, "unauthorized", "this endpoint needs an admin token: 'Authorization: Bearer nra_...'"};
    return std::nullopt;
  }
  auto t = store.find_token(sha256_hex(token));
  if (!t) {
    fail = fail_from(t.error());
    return std::nullopt;
  }
  if (!t->has_value() || (*t)->kind != "admin" || (*t)->revoked ||
      ((*t)->expires_at != 0 && (*t)->expires_at <= now())) {
    fail = {401, "unauthorized", "admin token unknown, revoked or expired"};
    return std::nullopt;
  }
  if (need_write && (*t)->role != "admin") {
    fail = {403, "forbidden", "token '" + (*t)->name + "' has the read role; this action needs an admin token"};
    return std::nullopt;
  }
  return std::move(**t);
}

// ---- agent endpoints ------------------------------------------------------------------------

HttpResponse Api::Impl::enroll(const RouteCall& call) {
  auto body = api::parse_enroll_request(call.req.body);
  if (!body) return error_response(fail_from(body.error()));
  for (const auto& tag : body->tags)
    if (!api::is_name(tag))
      return error_response({400, "invalid_input", "tags: '" + tag.substr(0, 64) + "' is not a valid name"});
  if (!is_enrollment_token(body->token))
    return error_response({401, "unauthorized", "token: not an enrollment token (they start with nre_)"});
  std::int64_t t = now();
  HostRecord h;
  h.id = "h_" + random_hex(12);
  h.hostname = body->hostname;
  h.kernel = body->kernel;
  h.tags = body->tags;
  h.enrolled_at = h.last_seen = t;
  std::string credential = new_secret(kHostCredentialPrefix);
  auto used = store.enroll_host(sha256_hex(body->token), h, sha256_hex(credential), t);
  if (!used) return error_response(fail_from(used.error()));
  if (!used->has_value())
    return error_response({401, "unauthorized",
                           "enrollment token unknown, expired, revoked or used up: ask for a new one"});
  auto stored = store.get_host(h.id);
  api::EnrollResponse resp{h.id, credential, (*used)->group, h.tags};
  if (stored && stored->has_value()) resp.tags = (*stored)->tags;
  log::info("enrolled host {} ({}) in group '{}'", h.id, h.hostname, resp.group);
  HttpResponse r;
  r.status = 201;
  r.body = api::to_json(resp);
  return r;
}

std::string Api::Impl::checkin_body(const HostRecord& host, const std::optional<api::Offer>& offer) const {
  api::CheckinResponse resp;
  resp.host_id = host.id;
  resp.offer = offer;
  resp.next_checkin_seconds = static_cast<std::uint32_t>(opt.checkin_interval);
  return api::to_json(resp);
}

std::optional<api::Offer> Api::Impl::decide(const HostRecord& host, const FleetSnapshot& fleet) {
  std::int64_t t = now();
  // Failures are few: those in the store live in the snapshot, those this server committed
  // since in local_failed; a decision costs no store read.
  auto d = choose_offer(host, fleet, t, [&](const std::string& sha) {
    if (fleet.failed.count({host.id, sha}) > 0) return true;
    std::lock_guard lock(failed_mu);
    return local_failed.count({host.id, sha}) > 0;
  });
  if (!d.bundle) return std::nullopt;
  const BundleRecord& b = *d.bundle;
  return api::Offer{b.sha256, "/v1/bundles/" + b.sha256, b.sha256, static_cast<std::uint64_t>(b.size),
                    static_cast<std::uint64_t>(b.sequence), b.patch_name, d.rollout_id};
}

Api::Impl::Waiter Api::Impl::take_waiter_locked(std::unordered_map<std::uint64_t, Waiter>::iterator& it) {
  auto h = waiter_of_host.find(it->second.host.id);
  if (h != waiter_of_host.end() && h->second == it->first) waiter_of_host.erase(h);
  Waiter w = std::move(it->second);
  it = waiters.erase(it);
  return w;
}

void Api::Impl::drop_parked_poll(const std::string& host_id) {
  std::optional<Waiter> gone;
  {
    std::lock_guard lock(wait_mu);
    auto slot = waiter_of_host.find(host_id);
    if (slot == waiter_of_host.end()) return;
    auto it = waiters.find(slot->second);
    if (it == waiters.end()) return;
    gone = take_waiter_locked(it);
  }
  metrics.longpoll_answered++;
  gone->respond(error_response({401, "unauthorized", "host credential revoked: enroll again (noreboot enroll)"}));
}

void Api::Impl::insert_waiter_locked(Waiter w, bool newest, std::vector<Waiter>& displaced) {
  auto [slot, fresh] = waiter_of_host.try_emplace(w.host.id, w.key);
  if (!fresh && slot->second != w.key) {
    auto other = waiters.find(slot->second);
    if (other != waiters.end()) {
      if (!newest) {  // a newer poll of this host parked meanwhile: it stays
        displaced.push_back(std::move(w));
        return;
      }
      displaced.push_back(std::move(other->second));
      waiters.erase(other);
    }
    slot->second = w.key;
  }
  std::uint64_t key = w.key;
  waiters.insert_or_assign(key, std::move(w));
}

void Api::Impl::park(HostRecord host, std::int64_t deadline, std::uint64_t decided_at, std::uint64_t connection,
                     Respond respond) {
  std::vector<Waiter> displaced;
  {
    std::lock_guard lock(wait_mu);
    std::uint64_t key = connection != 0 ? connection : (1ULL << 63) | next_waiter++;
    insert_waiter_locked(Waiter{std::move(host), deadline, decided_at, std::move(respond), key}, true, displaced);
  }
  // At most one parked poll per host: the older one is answered "nothing" now (200, offer
  // null), as if its wait had ended; its agent simply checks in again later.
  for (auto& w : displaced) {
    metrics.longpoll_replaced++;
    HttpResponse r;
    r.body = checkin_body(w.host, std::nullopt);
    w.respond(std::move(r));
  }
}

void Api::Impl::checkin(const RouteCall& call, Respond respond) {
  const HttpRequest& req = call.req;
  const AuthedHost* auth = call.host;
  const HostRecord& host = auth->host;
  auto body = api::parse_checkin_request(req.body);
  if (!body) return respond(error_response(fail_from(body.error())));
  std::int64_t wait = 0;
  if (auto it = req.query.find("wait"); it != req.query.end()) {
    auto w = parse_decimal(it->second, 6);
    if (!w || static_cast<std::int64_t>(*w) > opt.max_wait)
      return respond(error_response({400, "invalid_input",
                                     "wait: must be whole seconds from 0 to " + std::to_string(opt.max_wait)}));
    wait = static_cast<std::int64_t>(*w);
  }
  metrics.checkins++;
  std::int64_t t = now();
  HostRecord h = as_reported(host, *body, t);
  WriteBatch writes;
  if (host.kernel.build_id != h.kernel.build_id)
    writes.events.push_back({h.id, {t, "kernel_changed",
                                    json{{"from", host.kernel.release}, {"to", h.kernel.release},
                                         {"build_id", h.kernel.build_id}}.dump()}});
  std::string before = host.applied ? host.applied->bundle_sha256 : "";
  std::string after = h.applied ? h.applied->bundle_sha256 : "";
  if (before != after && !after.empty()) {
    writes.outcomes.push_back({h.id, after, "applied", t});
    writes.events.push_back({h.id, {t, "applied", json{{"bundle", after}, {"sequence", h.applied->sequence}}.dump()}});
  }
  // A check-in that changes nothing only refreshes last_seen: write that at most every 30 s.
  bool same = host.kernel.build_id == h.kernel.build_id && host.kernel.release == h.kernel.release &&
              host.state == h.state && before == after && t - host.last_seen < 30;
  if (!same) writes.statuses.push_back(h);

  std::uint64_t gen = generation.load();  // before the snapshot: it is at least this fresh
  auto fleet = snapshot();
  if (!fleet) return respond(error_response(fail_from(fleet.error())));
  gen = std::max(gen, (*fleet)->generation);
  auto offer = decide(h, **fleet);
  if (offer) writes.outcomes.push_back({h.id, offer->sha256, "offered", t});

  // Answer (or park) once the writes are durable.
  auto finish = [this, h = std::move(h), offer = std::move(offer), wait, t, gen, wrote_status = !same,
                 connection = req.connection,
                 hash = auth->credential_hash, respond = std::move(respond)](const Status& st) mutable {
    if (!st) return respond(error_response(fail_from(st.error())));
    if (wrote_status) host_cache.update(hash, h);
    if (offer || wait == 0) {
      if (offer) metrics.offers++;
      HttpResponse r;
      r.body = checkin_body(h, offer);
      return respond(std::move(r));
    }
    park(std::move(h), t + wait, gen, connection, std::move(respond));
  };
  if (writes.empty()) return finish(ok_status());
  committer.submit(std::move(writes), std::move(finish));
}

void Api::Impl::report(const RouteCall& call, Respond respond) {
  const HttpRequest& req = call.req;
  const AuthedHost* auth = call.host;
  const HostRecord& host = auth->host;
  auto body = api::parse_report_request(req.body);
  if (!body) return respond(error_response(fail_from(body.error())));
  if (body->host_id != host.id)
    return respond(error_response({403, "forbidden", "host_id '" + body->host_id.substr(0, 64) +
                                                         "' is not the host of this credential: a host reports only for itself"}));
  bool failed = body->state == api::AgentState::failed && !body->bundle_sha256.empty();
  if (failed) {
    // A failure counts against a rollout's budget and can halt it for the whole fleet: only a
    // host that was offered the bundle may report one (its offer is committed before the
    // check-in that carried it was answered).
    auto outcome = store.host_outcome(host.id, body->bundle_sha256);
    if (!outcome) return respond(error_response(fail_from(outcome.error())));
    if (outcome->empty())
      return respond(error_response({409, "not_offered", "bundle " + body->bundle_sha256 +
                                                            " was never offered to this host: a failure is reported "
                                                            "only for a bundle the server offered; nothing was counted"}));
  }
  metrics.reports++;
  std::int64_t t = now();
  HostRecord h = as_reported(host, *body, t);
  std::string err;
  for (const auto& e : body->errors) err += (err.empty() ? "" : "; ") + e;
  h.last_error = err.substr(0, 1024);
  WriteBatch writes;
  writes.statuses.push_back(h);
  if (failed)
    writes.outcomes.push_back({h.id, body->bundle_sha256, "failed", t});
  else if (body->state == api::AgentState::applied && body->applied)
    writes.outcomes.push_back({h.id, body->applied->bundle_sha256, "applied", t});
  json tasks = json::array();
  for (const auto& bt : body->blocked_tasks) tasks.push_back({{"pid", bt.pid}, {"comm", bt.comm}, {"stack", bt.stack}});
  json detail = {{"state", h.state}, {"bundle", body->bundle_sha256}, {"errors", body->errors},
                 {"blocked_tasks", tasks}, {"kernel_warnings", body->kernel_warnings}};
  writes.events.push_back({h.id, {t, "report", detail.dump(-1, ' ', false, json::error_handler_t::replace)}});
  if (failed) pending_failures++;
  committer.submit(std::move(writes), [this, h, failed, sha = body->bundle_sha256, hash = auth->credential_hash,
                                       respond = std::move(respond)](const Status& st) {
    if (failed) {
      if (st) {
        std::lock_guard lock(failed_mu);
        local_failed.emplace(h.id, sha);  // never offered this bundle again
      }
      evaluate_rollouts_now = true;  // the failure budget is checked at the next tick, now
      pending_failures--;
      wake();
    }
    if (!st) return respond(error_response(fail_from(st.error())));
    host_cache.update(hash, h);
    respond(json_response(200, {{"accepted", true}}));
  });
}

// The router has checked the id (64 lowercase hex) and the caller (a host credential, or an
// admin token of either role).
HttpResponse Api::Impl::download(const RouteCall& call) {
  const HttpRequest& req = call.req;
  const std::string& sha = call.capture("sha256");
  std::shared_ptr<const std::string> content;
  {
    std::lock_guard lock(cache_mu);
    if (auto it = content_cache.find(sha); it != content_cache.end()) content = it->second;
  }
  if (!content) {
    auto c = store.get_bundle_content(sha);
    if (!c) return error_response(fail_from(c.error()));
    if (!c->has_value()) return error_response({404, "not_found", "no bundle " + sha});
    content = std::make_shared<const std::string>(std::move(**c));
    std::lock_guard lock(cache_mu);
    if (cache_bytes + content->size() <= (512u << 20)) {
      content_cache.emplace(sha, content);
      cache_bytes += content->size();
    }
  }
  HttpResponse r;
  r.content_type = "application/octet-stream";
  std::string etag = "\"" + sha + "\"";
  r.headers = {{"ETag", etag}, {"Accept-Ranges", "bytes"}, {"Cache-Control", "private, max-age=31536000, immutable"}};
  std::string inm = req.header("if-none-match");
  if (!inm.empty() && (inm == etag || inm == "*" || inm.find(etag) != std::string::npos)) {
    r.status = 304;
    return r;
  }
  std::string range = req.header("range");
  std::size_t size = content->size();
  if (!range.empty() && range.rfind("bytes=", 0) == 0 && range.find(',') == std::string::npos) {
    std::string spec = range.substr(6);
    auto dash = spec.find('-');
    auto num = [](const std::string& s, std::uint64_t& v) {
      auto n = parse_decimal(s, 18);
      if (n) v = *n;
      return n.has_value();
    };
    std::uint64_t a = 0, b = 0;
    bool ok = dash != std::string::npos;
    std::string sa = ok ? spec.substr(0, dash) : "", sb = ok ? spec.substr(dash + 1) : "";
    if (ok && sa.empty()) {  // suffix: last N bytes
      ok = num(sb, b) && b > 0;
      if (ok) { a = b >= size ? 0 : size - b; b = size - 1; }
    } else if (ok) {
      ok = num(sa, a) && (sb.empty() ? (b = size - 1, true) : num(sb, b));
      if (ok && b >= size) b = size - 1;
      ok = ok && a <= b && a < size;
    }
    if (!ok) {
      r.status = 416;
      r.content_type = "application/json";
      r.body = api::to_json(api::ApiError{"range_not_satisfiable",
                                          "Range '" + range.substr(0, 64) + "' does not fit a bundle of " +
                                              std::to_string(size) + " bytes"});
      r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return r;
    }
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                                                std::to_string(size));
    r.body = content->substr(a, b - a + 1);
    return r;
  }
  r.shared_body = std::move(content);
  return r;
}

// ---- rollouts ticker ------------------------------------------------------------------------

Result<RolloutCounts> Api::Impl::rollout_counts(const RolloutRecord& r) {
  RolloutCounts sum;
  for (const auto& sha : r.all_bundles()) {
    NR_TRY(auto c, store.bundle_counts(sha));
    sum.offered += c.offered;
    sum.applied += c.applied;
    sum.failed += c.failed;
  }
  return sum;
}

void Api::Impl::evaluate_rollouts() {
  auto rollouts = store.list_rollouts();
  if (!rollouts) return;
  std::int64_t t = now();
  for (const auto& r : *rollouts) {
    if (r.state == RolloutState::halted) continue;
    auto counts = rollout_counts(r);
    if (!counts) return;
    auto step = evaluate_rollout(r, *counts, t);
    if (!step.changed) continue;
    // A halt blocks the rollout's bundles (a fix rollout: every bundle of the fix, on every
    // kernel) in the same transaction: both or neither, whatever crashes in between.
    auto wrote = step.block_bundle ? store.update_rollout_and_block(r, step.next, r.all_bundles(), true)
                                   : store.update_rollout(r, step.next);
    if (!wrote) {
      log::error("rollout {}: could not write the {} step: {}", r.id, step.event, wrote.error().message());
      continue;  // the next tick tries again
    }
    if (!*wrote) continue;  // another server did it first
    json detail = {{"rollout", r.id}, {"stage", step.next.current_stage}, {"reason", step.next.halt_reason}};
    (void)store.add_audit({t, "server", "rollout." + step.event, detail.dump()});
    log::info("rollout {} {}: stage {} {}", r.id, step.event, step.next.current_stage + 1, step.next.halt_reason);
    changed();
  }
}

}  // namespace noreboot::server
