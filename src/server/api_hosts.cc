// Admin endpoints for hosts: the list with filters and paging (GET /v1/hosts), one host with
// its history (GET /v1/hosts/{id}) and revoking its credential (DELETE /v1/hosts/{id}).
#include <algorithm>

#include "core/log.h"
#include "core/numbers.h"
#include "server/api_impl.h"

namespace noreboot::server {

HttpResponse Api::Impl::hosts_get(const RouteCall& call) {
  const HttpRequest& req = call.req;
  HostFilter f;
  auto q = [&](const char* k) { auto it = req.query.find(k); return it == req.query.end() ? std::string() : it->second; };
  f.group = q("group");
  f.state = q("state");
  if (!f.group.empty() && !api::is_name(f.group)) return bad_request("group: not a valid name");
  if (!f.state.empty() && !api::parse_agent_state(f.state))
    return bad_request("state: unknown state '" + f.state.substr(0, 32) + "'");
  // Absent: the default; present: up to 9 digits, capped at the largest page or offset.
  auto num = [&](const char* k, std::int64_t def, std::int64_t max) -> std::optional<std::int64_t> {
    std::string v = q(k);
    if (v.empty()) return def;
    auto n = parse_decimal(v, 9);
    if (!n) return std::nullopt;
    return std::min<std::int64_t>(static_cast<std::int64_t>(*n), max);
  };
  auto limit = num("limit", 100, 10000), offset = num("offset", 0, 1000000000);
  if (!limit || !offset) return bad_request("limit/offset: must be non-negative integers");
  f.limit = *limit;
  f.offset = *offset;
  NR_TRY_RESP(auto hosts, store.list_hosts(f));
  NR_TRY_RESP(auto total, store.count_hosts(f));
  json a = json::array();
  for (const auto& h : hosts) a.push_back(host_to_json(h));
  return json_response(200, {{"hosts", a}, {"total", total}});
}

HttpResponse Api::Impl::host_get(const RouteCall& call) {
  const std::string& id = call.capture("id");
  if (!id_ok(id, "h_", 24)) return bad_request("host id '" + id.substr(0, 64) + "' must look like h_ + 24 hex");
  NR_TRY_RESP(auto h, store.get_host(id));
  if (!h) return not_found_response("no host " + id);
  NR_TRY_RESP(auto hist, store.host_history(id, 100));
  json j = host_to_json(*h);
  json a = json::array();
  for (const auto& e : hist) {
    json d = json::parse(e.detail, nullptr, false);
    a.push_back({{"time", e.time}, {"kind", e.kind}, {"detail", d.is_discarded() ? json(e.detail) : d}});
  }
  j["history"] = a;
  return json_response(200, j);
}

// Revokes the host's credential: it can no longer check in, report or download.
HttpResponse Api::Impl::host_delete(const RouteCall& call) {
  const std::string& id = call.capture("id");
  if (!id_ok(id, "h_", 24)) return bad_request("host id '" + id.substr(0, 64) + "' must look like h_ + 24 hex");
  NR_TRY_RESP(auto gone, store.revoke_host(id, now()));
  if (!gone) return not_found_response("no host " + id);
  host_cache.forget_host(id);
  drop_parked_poll(id);  // its waiting check-in gets 401 now, not an offer later
  audit(*call.actor, "host.revoke", {{"id", id}});
  log::info("host {} revoked by {}", id, call.actor->id);
  return json_response(200, {{"revoked", id}});
}

}  // namespace noreboot::server
