// What the feed asks the server: which kernels the fleet runs (GET /v1/fleet), the newest
// unblocked bundle for each (GET /v1/bundles: the base the next cumulative patch goes on top
// of), and whether a fix already has a rollout (GET /v1/rollouts) before creating one.
//
// Reads use the read token, changes the admin token. The JSON is interpreted by pure
// functions (unit-tested); the calls go through noreboot-admin's HTTP client, so TLS and
// error handling are the same as the admin tool's (a server that is down is an Error that
// says so; the run stops and the next one retries).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "feed/config.h"

namespace noreboot::feed {

struct BaseBundle {
  std::string sha256;
  std::uint64_t sequence = 0;
};

struct FleetView {
  std::vector<std::string> kernels;            // releases hosts run, sorted
  std::map<std::string, BaseBundle> newest;    // release -> newest unblocked bundle
};

FleetView fleet_from_json(const nlohmann::json& fleet, const nlohmann::json& bundles);
// True when GET /v1/rollouts lists a rollout of this fix.
bool has_fix_rollout(const nlohmann::json& rollouts, const std::string& fix_id);
// The rollout of a fix with the configured stages; await_approval: it offers nothing until an
// operator runs `noreboot-admin fix approve ID` (approve = "manual").
nlohmann::json fix_rollout_body(const std::string& fix_id, const std::vector<Stage>& stages,
                                bool await_approval = false);
// The body of POST /v1/audit: {"action": "feed.<step>", "detail": {...}}.
nlohmann::json audit_body(const std::string& step, const nlohmann::json& detail);

class ServerClient {
 public:
  explicit ServerClient(const FeedConfig& config) : config_(config) {}
  Result<FleetView> fleet() const;
  // Creates the fix's rollout unless one exists. Returns "created r_..." or "exists".
  Result<std::string> ensure_fix_rollout(const std::string& fix_id, bool await_approval = false) const;
  // Records one step of the feed in the server's audit log (admin token: the entry's actor is
  // the feed's token). The caller decides what a failure means (the run goes on).
  Status audit(const std::string& step, const nlohmann::json& detail) const;

 private:
  Result<nlohmann::json> call(bool admin, const std::string& method, const std::string& path,
                              const std::string& body = "") const;
  const FeedConfig& config_;
};

}  // namespace noreboot::feed
