// What the feed asks the server: see fleet.h.
#include "feed/fleet.h"

#include <algorithm>
#include <fstream>

#include "admin/cmd_server_client.h"

namespace noreboot::feed {

using nlohmann::json;

FleetView fleet_from_json(const json& fleet, const json& bundles) {
  FleetView v;
  if (fleet.contains("by_kernel") && fleet["by_kernel"].is_array())
    for (const auto& k : fleet["by_kernel"]) {
      if (!k.is_object() || !k.contains("release") || !k["release"].is_string()) continue;
      std::string r = k["release"].get<std::string>();
      if (std::find(v.kernels.begin(), v.kernels.end(), r) == v.kernels.end()) v.kernels.push_back(r);
    }
  std::sort(v.kernels.begin(), v.kernels.end());
  if (bundles.contains("bundles") && bundles["bundles"].is_array())
    for (const auto& b : bundles["bundles"]) {
      if (!b.is_object() || b.value("blocked", false)) continue;
      if (!b.contains("kernel") || !b["kernel"].is_object()) continue;
      std::string release = b["kernel"].value("release", std::string());
      std::string sha = b.value("sha256", std::string());
      std::uint64_t seq = b.value("sequence", std::uint64_t{0});
      if (release.empty() || sha.empty()) continue;
      auto it = v.newest.find(release);
      if (it == v.newest.end() || it->second.sequence < seq) v.newest[release] = {sha, seq};
    }
  return v;
}

bool has_fix_rollout(const json& rollouts, const std::string& fix_id) {
  const json& list = rollouts.contains("rollouts") ? rollouts["rollouts"] : rollouts;
  if (!list.is_array()) return false;
  for (const auto& r : list)
    if (r.is_object() && r.value("fix", std::string()) == fix_id) return true;
  return false;
}

json fix_rollout_body(const std::string& fix_id, const std::vector<Stage>& stages, bool await_approval) {
  json s = json::array();
  for (const auto& st : stages)
    s.push_back({{"percent", st.percent}, {"soak_seconds", st.soak_seconds}, {"failure_budget", st.failure_budget}});
  json body = {{"fix", fix_id}, {"groups", json::array()}, {"tags", json::array()}, {"stages", s}, {"window", nullptr}};
  if (await_approval) body["await_approval"] = true;
  return body;
}

json audit_body(const std::string& step, const json& detail) {
  return {{"action", "feed." + step}, {"detail", detail.is_object() ? detail : json::object()}};
}

Result<json> ServerClient::call(bool admin, const std::string& method, const std::string& path,
                                const std::string& body) const {
  const auto& file = admin ? config_.admin_token_file : config_.read_token_file;
  std::ifstream in(file);
  std::string token;
  if (!in || !std::getline(in, token))
    return Error(Errc::invalid_argument, std::string(admin ? "admin_token_file " : "read_token_file ") + file.string() +
                                             ": cannot read it (a file holding one nra_ token)");
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  admin::ServerTarget t{config_.server, token, config_.cacert.string()};
  auto r = admin::server_call(t, method, path, body);
  if (!r) return std::move(r).error().context("server " + config_.server + ", " + method + " " + path);
  return r;
}

Result<FleetView> ServerClient::fleet() const {
  NR_TRY(auto fleet, call(false, "GET", "/v1/fleet"));
  NR_TRY(auto bundles, call(false, "GET", "/v1/bundles"));
  return fleet_from_json(fleet, bundles);
}

Result<std::string> ServerClient::ensure_fix_rollout(const std::string& fix_id, bool await_approval) const {
  NR_TRY(auto rollouts, call(true, "GET", "/v1/rollouts"));
  if (has_fix_rollout(rollouts, fix_id)) return std::string("exists");
  NR_TRY(auto created, call(true, "POST", "/v1/rollouts", fix_rollout_body(fix_id, config_.stages, await_approval).dump()));
  return "created " + created.value("id", std::string("?"));
}

Status ServerClient::audit(const std::string& step, const json& detail) const {
  NR_TRY(auto answer, call(true, "POST", "/v1/audit", audit_body(step, detail).dump()));
  (void)answer;
  return ok_status();
}

}  // namespace noreboot::feed
