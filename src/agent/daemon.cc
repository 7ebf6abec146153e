#include "agent/daemon.h"

#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/apply.h"
#include "agent/fs_util.h"
#include "agent/offer_check.h"
#include "agent/service_notify.h"
#include "core/api_types.h"
#include "core/bytes.h"
#include "core/http_client.h"
#include "core/kernel_identity.h"
#include "core/log.h"

namespace noreboot::agent {

using nlohmann::json;
using http::describe_http_error;

namespace {
// The agent's HTTP client: the server's CA file, its own user agent, stopped by `stop`.
http::ClientOptions client_options(const std::string& server, const AgentConfig& config,
                                   const std::atomic<bool>* stop, int wake_fd) {
  return {.base = server, .ca_file = config.ca_file, .user_agent = "noreboot-agent/0.1.0", .stop = stop,
          .wake_fd = wake_fd};
}

constexpr const char* kAgentVersion = "0.1.0";

api::KernelId wire_kernel(const KernelIdentity& k) { return {k.release, k.version, k.build_id, k.arch}; }

void notify(const std::string& what) { service_notify(what); }

// Sleeps up to `seconds`, waking early when stop is set; pings the watchdog meanwhile. With a
// wake fd it sleeps in poll(2) until the signal watcher writes it (no periodic wake-ups unless
// systemd's watchdog wants pings); without one it looks at `stop` every 500 ms.
void pause(std::atomic<bool>& stop, int wake_fd, double seconds) {
  uint64_t watchdog_usec = service_watchdog_usec();
  bool watchdog = watchdog_usec > 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    auto slice = std::chrono::duration_cast<std::chrono::milliseconds>(end - now) + std::chrono::milliseconds(1);
    auto cap = wake_fd >= 0 ? slice : std::chrono::milliseconds(500);
    if (watchdog) cap = std::min<std::chrono::milliseconds>(cap, std::chrono::milliseconds(watchdog_usec / 2000));
    auto ms = std::min(slice, cap);
    if (wake_fd >= 0) {
      pollfd p{wake_fd, POLLIN, 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>(ms.count(), 3'600'000)));
    } else {
      std::this_thread::sleep_for(ms);
    }
    if (watchdog) notify("WATCHDOG=1");
  }
}

std::optional<api::AppliedPatch> wire_applied(const AgentState& s, const std::vector<LivepatchInfo>& live) {
  if (!s.applied) return std::nullopt;
  for (const auto& p : live)
    if (p.name == s.applied->patch_name && p.enabled)
      return api::AppliedPatch{s.applied->patch_name, s.applied->sequence, s.applied->bundle_sha256};
  return std::nullopt;
}

api::AgentState wire_state(const Journal& j, bool applied) {
  switch (j.step) {
    case Step::downloaded:
    case Step::verifying: return api::AgentState::downloading;
    case Step::loading:
    case Step::transition: return api::AgentState::applying;
    case Step::failed: return api::AgentState::failed;
    default: return applied ? api::AgentState::applied : api::AgentState::idle;
  }
}

class Session {
 public:
  Session(AgentContext& ctx, Credential cred, std::atomic<bool>& stop, int wake_fd)
      : ctx_(ctx), cred_(std::move(cred)), stop_(stop), http_(client_options(cred_.server, ctx.config, &stop, wake_fd)) {}

  Result<api::CheckinResponse> checkin(int wait) {
    NR_TRY(auto id, read_running_kernel(ctx_.root));
    NR_TRY(auto state, ctx_.store.load_state());
    NR_TRY(auto journal, ctx_.store.load_journal());
    NR_TRY(auto live, ctx_.kernel->list_livepatches());
    api::CheckinRequest req;
    req.kernel = wire_kernel(id);
    req.applied = wire_applied(state, live);
    req.state = wire_state(journal, req.applied.has_value());
    req.agent_version = kAgentVersion;
    std::string path = "/v1/checkin" + (wait > 0 ? "?wait=" + std::to_string(wait) : std::string());
    auto resp = http_.post_json(path, api::to_json(req), cred_.credential, wait + 15);
    Status noted = note_checkin(resp.ok() ? (resp->status == 200 ? "ok" : describe_http_error(*resp))
                                          : resp.error().message(),
                                resp.ok() && resp->status == 200);
    if (!resp.ok()) return resp.error();
    if (resp->status == 401)
      return Error(Errc::refused, "the server rejected this host's credential (" + describe_http_error(*resp) +
                                      "): re-enroll with `noreboot enroll --force --token TOKEN`");
    if (resp->status != 200) return Error(Errc::unavailable, "check-in: " + describe_http_error(*resp));
    if (!noted.ok()) log::warn("{}", noted.error().message());
    return api::parse_checkin_response(resp->body);
  }

  // Download, apply, report. Returns an error only for trouble that should back off.
  Status handle_offer(const api::Offer& offer) {
    // The name only through printable_name: it goes into sd_notify messages and log lines.
    const std::string name = printable_name(offer.patch_name);
    if (Status bad = check_offer(offer); !bad.ok()) {
      log::error("{}", bad.error().message());
      return report_failed(offer.sha256, std::vector<std::string>{"refused: " + bad.error().message()}, {});
    }
    NR_TRY(auto state, ctx_.store.load_state());
    if (state.quarantine_for(offer.sha256)) {
      log::warn("offer {} is quarantined by the crash-loop guard; not applying it", name);
      return report_failed(offer.sha256,
                           std::vector<std::string>{"refused: bundle is quarantined: " + state.quarantine_for(offer.sha256)->reason},
                           {});
    }
    if (!in_maintenance_window(ctx_.config.windows, std::time(nullptr))) {
      log::info("offer {} (sequence {}) waits for a maintenance window", name, offer.sequence);
      notify("STATUS=waiting for a maintenance window to apply " + name);
      return ok_status();
    }
    notify("STATUS=downloading " + name);
    std::filesystem::path dest = ctx_.store.dir() / "bundles" / (offer.sha256 + ".nrp");
    NR_TRY_STATUS(http_.download(offer.url, cred_.credential, dest, offer.sha256, offer.size,
                                 ctx_.config.download_seconds));
    NR_TRY(auto bytes, read_text(dest));
    std::error_code ec;
    std::filesystem::remove(dest, ec);
    NR_TRY(std::string boot_id, ctx_.kernel->boot_id());
    Journal j;
    j.bundle_sha256 = offer.sha256;
    j.patch_name = offer.patch_name;
    j.sequence = offer.sequence;
    j.boot_id = boot_id;
    NR_TRY_STATUS(ctx_.store.set_step(j, Step::downloaded, unix_now(), {}, false));
    notify("STATUS=applying " + name);
    auto lock = acquire_state_lock(ctx_.store.dir(), true);
    if (!lock.ok()) return lock.error();
    ApplyOptions opt;
    opt.automatic = true;
    opt.origin = "offer " + name + " (sequence " + std::to_string(offer.sequence) + ")";
    auto r = apply_bundle(ctx_, as_bytes(bytes), opt);
    if (!r.ok()) {
      log::error("{}", r.error().message());
      NR_TRY(auto st, ctx_.store.load_state());
      return report_failed(offer.sha256, std::vector<std::string>{r.error().message()}, st.last_blocked);
    }
    log::info("{}", r->summary);
    return report(api::AgentState::applied, offer.sha256, {}, {}, r->kernel_warnings);
  }

  Status report_failed(const std::string& sha, std::vector<std::string> errors, const std::vector<BlockedTask>& blocked) {
    return report(api::AgentState::failed, sha, std::move(errors), blocked, {});
  }

  Status report(api::AgentState s, const std::string& sha, std::vector<std::string> errors,
                const std::vector<BlockedTask>& blocked, const std::vector<std::string>& warnings) {
    NR_TRY(auto id, read_running_kernel(ctx_.root));
    NR_TRY(auto state, ctx_.store.load_state());
    NR_TRY(auto live, ctx_.kernel->list_livepatches());
    api::ReportRequest req;
    req.host_id = cred_.host_id;
    req.state = s;
    req.kernel = wire_kernel(id);
    req.applied = wire_applied(state, live);
    req.bundle_sha256 = sha;
    for (auto& e : errors) req.errors.push_back(e.substr(0, 1000));
    for (const auto& t : blocked) req.blocked_tasks.push_back({t.pid, t.comm, t.stack.substr(0, 2000)});
    req.kernel_warnings = warnings;
    auto resp = http_.post_json("/v1/report", api::to_json(req), cred_.credential, 30);
    if (!resp.ok()) return resp.error();
    if (resp->status != 200) return Error(Errc::unavailable, "report: " + describe_http_error(*resp));
    return ok_status();
  }

 private:
  Status note_checkin(const std::string& result, bool ok) {
    auto lock = acquire_state_lock(ctx_.store.dir(), true);
    if (!lock.ok()) return lock.error();
    NR_TRY(auto state, ctx_.store.load_state());
    if (ok) state.last_checkin = unix_now();
    state.last_checkin_result = result;
    return ctx_.store.save_state(state);
  }

  AgentContext& ctx_;
  Credential cred_;
  std::atomic<bool>& stop_;
  http::Client http_;
};

// Reapplies the last good bundle at start when the crash-loop guard allows it.
void reapply_at_start(AgentContext& ctx, const StartupDecision& d) {
  if (!d.reapply_allowed) return;
  auto bytes = read_text(ctx.store.last_good_path());
  if (!bytes.ok()) return;
  ApplyOptions opt;
  opt.automatic = true;
  opt.origin = "last good bundle " + ctx.store.last_good_path().string();
  auto r = apply_bundle(ctx, as_bytes(*bytes), opt);
  if (r.ok()) log::info("reapplied at start: {}", r->summary);
  else log::error("could not reapply the last good bundle: {}", r.error().message());
}

}  // namespace

Result<Credential> load_credential(const StateStore& store) {
  auto text = read_text(store.credential_path());
  if (!text.ok()) {
    if (text.error().code() == Errc::not_found)
      return Error(Errc::not_found, "this host is not enrolled (" + store.credential_path().string() +
                                        " is missing): run `noreboot enroll --token TOKEN`");
    return text.error();
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error(Errc::invalid_input, store.credential_path().string() + " is not valid JSON: enroll again with --force");
  Credential c;
  c.server = j.value("server", "");
  c.host_id = j.value("host_id", "");
  c.credential = j.value("credential", "");
  c.group = j.value("group", "");
  c.enrolled_at = j.value("enrolled_at", int64_t{0});
  if (c.server.empty() || c.credential.empty() || c.host_id.empty())
    return Error(Errc::invalid_input, store.credential_path().string() + " lacks server, host_id or credential: enroll again with --force");
  return c;
}

Result<Credential> enroll(AgentContext& ctx, const EnrollOptions& o) {
  NR_TRY_STATUS(ctx.store.init());
  if (!o.force && std::filesystem::exists(ctx.store.credential_path()))
    return Error(Errc::conflict, "already enrolled (" + ctx.store.credential_path().string() +
                                     "); pass --force to enroll again");
  std::string server = o.server.empty() ? ctx.config.server : o.server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.empty()) return Error(Errc::invalid_argument, "no server: set `server` in agent.toml or pass --server URL");
  if (o.token.empty()) return Error(Errc::invalid_argument, "enroll needs --token TOKEN (an nre_... enrollment token)");
  NR_TRY(auto id, read_running_kernel(ctx.root));
  api::EnrollRequest req;
  req.token = o.token;
  req.hostname = o.hostname;
  if (req.hostname.empty()) {
    char name[256] = {0};
    ::gethostname(name, sizeof name - 1);
    req.hostname = name[0] ? name : "localhost";
  }
  req.kernel = wire_kernel(id);
  req.tags = o.tags;
  http::Client http(client_options(server, ctx.config, nullptr, -1));
  NR_TRY(auto resp, http.post_json("/v1/enroll", api::to_json(req), "", 30));
  if (resp.status != 201 && resp.status != 200)
    return Error(resp.status == 401 ? Errc::refused : Errc::unavailable, "enroll: " + describe_http_error(resp));
  NR_TRY(auto er, api::parse_enroll_response(resp.body));
  Credential c{server, er.host_id, er.credential, er.group, unix_now()};
  json j = {{"server", c.server}, {"host_id", c.host_id}, {"credential", c.credential},
            {"group", c.group}, {"tags", er.tags}, {"enrolled_at", c.enrolled_at}};
  NR_TRY_STATUS(write_text(ctx.store.credential_path(), j.dump(2) + "\n", {.mode = 0600}));
  return c;
}

namespace {

// Keeps the journal honest while the daemon runs: a patch live for settle_seconds becomes
// "stable", so a crash hours later is not blamed on it. Skipped when a command holds the lock.
void reconcile_now(AgentContext& ctx) {
  auto lock = acquire_state_lock(ctx.store.dir(), false);
  if (lock.ok()) (void)reconcile_at_start(ctx);
}

// Not enrolled: the daemon still guards the host (it reapplied the last good bundle at start,
// promotes a live patch to stable, and records the clean shutdown on SIGTERM, without which
// the next boot would take the patch for a crash suspect). It looks for a credential every
// few seconds, so `noreboot enroll` starts the check-ins without a restart.
Result<Credential> wait_for_enrollment(AgentContext& ctx, std::atomic<bool>& stop, int wake_fd, const Error& why) {
  log::warn("{}; until then the agent only guards this host (reapply at boot, clean-shutdown record)",
            why.message());
  notify("READY=1");
  notify("STATUS=not enrolled: guarding only (run `noreboot enroll --token TOKEN`)");
  double step = std::clamp<double>(static_cast<double>(ctx.config.settle_seconds) / 2, 1.0, 10.0);
  while (!stop.load()) {
    pause(stop, wake_fd, step);
    if (stop.load()) break;
    reconcile_now(ctx);
    auto cred = load_credential(ctx.store);
    if (cred.ok()) return cred;
  }
  return Error(Errc::unavailable, "stopped before enrollment");
}

}  // namespace

Status run_daemon(AgentContext& ctx, const DaemonOptions& o, std::atomic<bool>& stop) {
  NR_TRY_STATUS(ctx.store.init());
  NR_TRY(std::string boot_id, ctx.kernel->boot_id());
  {
    auto lock = acquire_state_lock(ctx.store.dir(), true);
    if (!lock.ok()) return lock.error();
    NR_TRY(auto decision, reconcile_at_start(ctx));
    reapply_at_start(ctx, decision);
  }
  ::malloc_trim(0);
  auto cred = load_credential(ctx.store);
  if (!cred.ok() && (o.once || cred.error().code() != Errc::not_found)) {
    notify("STATUS=" + cred.error().message());
    return cred.error();
  }
  if (!cred.ok()) {
    cred = wait_for_enrollment(ctx, stop, o.wake_fd, cred.error());
  } else {
    notify("READY=1");
  }
  if (cred.ok()) {
    notify("STATUS=checking in with " + cred->server);
    log::info("agent started: host {} checking in with {}", cred->host_id, cred->server);
    Session session(ctx, *cred, stop, o.wake_fd);
    std::mt19937_64 rng(std::random_device{}());
    auto jitter = [&](double max) { return std::uniform_real_distribution<double>(0, std::max(0.0, max))(rng); };
    double backoff = 0;
    while (!stop.load()) {
      auto resp = session.checkin(o.once ? 0 : ctx.config.long_poll_seconds);
      if (stop.load()) break;
      reconcile_now(ctx);
      if (!resp.ok()) {
        backoff = backoff == 0 ? 2 : std::min(backoff * 2, static_cast<double>(ctx.config.interval_seconds));
        log::warn("check-in failed: {} (retrying in about {} s)", resp.error().message(), static_cast<int>(backoff));
        notify("STATUS=check-in failed: " + resp.error().message());
        if (o.once) return resp.error();
        pause(stop, o.wake_fd, backoff + jitter(backoff / 2));
        continue;
      }
      backoff = 0;
      if (resp->offer) {
        Status s = session.handle_offer(*resp->offer);
        ::malloc_trim(0);  // the bundle's bytes and the apply's buffers go back to the system
        if (!s.ok()) log::warn("offer {}: {}", printable_name(resp->offer->patch_name), s.error().message());
        if (o.once) return s;
        if (s.ok()) continue;  // check in again at once with the new state
      }
      if (o.once) break;
      notify("STATUS=idle; next check-in in " + std::to_string(resp->next_checkin_seconds) + " s");
      pause(stop, o.wake_fd, std::min<double>(resp->next_checkin_seconds, ctx.config.interval_seconds) + jitter(ctx.config.jitter_seconds));
    }
  }
  if (stop.load()) {
    notify("STOPPING=1");
    NR_TRY_STATUS(ctx.store.mark_clean_shutdown(boot_id));
    log::info("agent stopped cleanly");
  }
  return ok_status();
}

struct SignalWatcher::Impl {
  std::thread thread;
  sigset_t set;
};

SignalWatcher::SignalWatcher(std::atomic<bool>& stop, int wake_fd) : impl_(new Impl) {
  sigemptyset(&impl_->set);
  sigaddset(&impl_->set, SIGTERM);
  sigaddset(&impl_->set, SIGINT);
  sigaddset(&impl_->set, SIGUSR2);  // used to wake the watcher at destruction
  pthread_sigmask(SIG_BLOCK, &impl_->set, nullptr);
  impl_->thread = std::thread([this, &stop, wake_fd] {
    for (;;) {
      int sig = 0;
      if (sigwait(&impl_->set, &sig) != 0) continue;
      stop.store(true);
      if (wake_fd >= 0) {
        uint64_t one = 1;
        (void)!::write(wake_fd, &one, sizeof one);
      }
      if (sig == SIGUSR2) return;
      log::info("signal {} received: stopping", sig);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(impl_->thread.native_handle(), SIGUSR2);
  impl_->thread.join();
  delete impl_;
}

}  // namespace noreboot::agent
