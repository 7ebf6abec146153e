// `noreboot agent` (the daemon) and `noreboot enroll`.
//
// Enroll once: POST /v1/enroll with a token; the answer's host id and credential are kept in
// <state>/credential.json (0600) with the server URL and the date. The daemon then loops:
//   check in (POST /v1/checkin?wait=long_poll: the server answers at once when it has an
//   offer, else holds the request up to long_poll seconds) with the exact kernel identity, the
//   applied patch and the state -> on an offer, inside a maintenance window: download to
//   <state>/bundles/<sha>.nrp (resumed, hash-checked) -> apply through the same apply_bundle
//   as `noreboot apply` (automatic: quarantined bundles refused) -> POST /v1/report -> check in
//   again at once; else sleep next_checkin_seconds + random jitter.
// At start, before the first check-in, it reconciles the journal (crash-loop guard) and
// reapplies the last good bundle if the guard allows, so a reboot into the same kernel is
// patched again within seconds, with or without a server. A host that is not enrolled still
// runs the daemon as a guard (reapply at start, live -> stable after settle_seconds, the
// clean-shutdown record on SIGTERM) and starts checking in once `noreboot enroll` has run;
// without the daemon's clean-shutdown record every reboot would look like a crash.
// Network errors back off exponentially (2 s doubling, capped at the check-in interval) with
// jitter; a 401 means the credential was revoked: status says "re-enroll", and it keeps trying.
// systemd: READY=1 after start-up, STATUS= lines, WATCHDOG=1 at least every half watchdog
// period; SIGTERM or SIGINT stops the loop at once (long polls are cancelled), writes the
// clean-shutdown marker for this boot and returns.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "agent/context.h"

namespace noreboot::agent {

struct Credential {
  std::string server;
  std::string host_id;
  std::string credential;
  std::string group;
  int64_t enrolled_at = 0;
};
Result<Credential> load_credential(const StateStore& store);

struct EnrollOptions {
  std::string server;  // overrides the config's
  std::string token;
  std::vector<std::string> tags;
  std::string hostname;  // default: gethostname()
  bool force = false;    // replace an existing credential
};
Result<Credential> enroll(AgentContext& ctx, const EnrollOptions& options);

struct DaemonOptions {
  bool once = false;  // one check-in (and apply + report if offered), then return
  // An eventfd the SignalWatcher makes readable on SIGTERM/SIGINT: sleeps and long polls wait
  // on it, so the idle daemon is not woken by timers. -1: they look at `stop` every 500 ms.
  int wake_fd = -1;
};

// Runs until `stop` becomes true (set by the signal watcher) or, with once, after one round.
Status run_daemon(AgentContext& ctx, const DaemonOptions& options, std::atomic<bool>& stop);

// Blocks SIGTERM/SIGINT in the calling thread (call before starting threads) and starts a
// thread that sets `stop` when one arrives (and makes wake_fd readable, if given). The
// returned object joins it.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::atomic<bool>& stop, int wake_fd = -1);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace noreboot::agent
