// Admin endpoints for the fleet as a whole: the summary (GET /v1/fleet: hosts by state and
// kernel, fixes applied, who is exposed, rollouts by state) and the audit log (GET /v1/audit).
// The dashboard's fleet page renders fleet_json too.
#include <algorithm>

#include "server/api_impl.h"

namespace noreboot::server {

Result<json> Api::Impl::fleet_json() {
  NR_TRY(auto total, store.count_hosts({}));
  NR_TRY(auto states, store.hosts_by_state());
  NR_TRY(auto kernels, store.hosts_by_kernel());
  NR_TRY(auto applied, store.hosts_by_applied_bundle());
  NR_TRY(auto bundles, store.list_bundles());
  NR_TRY(auto rollouts, store.list_rollouts());
  NR_TRY(auto groups, fix_groups(""));
  json by_state = json::object();
  for (const auto& c : states) by_state[c.key] = c.n;
  json by_kernel = json::array();
  json exposed = json::array();
  for (const auto& c : kernels) {
    by_kernel.push_back({{"release", c.key}, {"build_id", c.key2}, {"hosts", c.n}});
    std::int64_t latest = 0;
    for (const auto& b : bundles)
      if (b.kernel_build_id == c.key2 && !b.blocked) latest = std::max(latest, b.sequence);
    // Exposure per fix on this kernel, counted from the same classification as GET /v1/fixes:
    // a host group counts once in hosts_exposed however many fixes it lacks.
    std::int64_t hosts_exposed = 0;
    json per_fix = json::array();
    for (std::size_t i = 0; i < groups.hosts.size(); ++i) {
      const HostKernelCount& h = groups.hosts[i];
      if (h.release != c.key || h.build_id != c.key2) continue;
      bool any = std::any_of(groups.fixes.begin(), groups.fixes.end(),
                             [&](const FixClassification& f) { return f.group[i] == FixGroup::exposed; });
      if (any) hosts_exposed += h.n;
    }
    for (const auto& f : groups.fixes) {
      std::int64_t n = 0;
      for (std::size_t i = 0; i < groups.hosts.size(); ++i)
        if (f.group[i] == FixGroup::exposed && groups.hosts[i].release == c.key && groups.hosts[i].build_id == c.key2)
          n += groups.hosts[i].n;
      if (n > 0) per_fix.push_back({{"id", f.fix.id}, {"hosts", n}});
    }
    if (latest > 0 || hosts_exposed > 0) {
      std::int64_t behind = 0;
      if (latest > 0) {
        NR_TRY(behind, store.hosts_behind(c.key2, latest));
      }
      exposed.push_back({{"release", c.key}, {"build_id", c.key2}, {"latest_sequence", latest},
                         {"hosts_behind", behind}, {"hosts_exposed", hosts_exposed}, {"fixes", per_fix}});
    }
  }
  json fixes = json::array();
  for (const auto& c : applied) {
    auto it = std::find_if(bundles.begin(), bundles.end(), [&](const BundleRecord& b) { return b.sha256 == c.key; });
    fixes.push_back({{"sha256", c.key}, {"patch_name", it != bundles.end() ? it->patch_name : ""},
                     {"sequence", it != bundles.end() ? it->sequence : 0}, {"hosts", c.n}});
  }
  json rs = {{"running", 0}, {"halted", 0}, {"completed", 0}, {"awaiting_approval", 0}};
  for (const auto& r : rollouts) rs[std::string(rollout_state_name(r.state))] = rs[std::string(rollout_state_name(r.state))].get<int>() + 1;
  return json{{"hosts", total}, {"by_state", by_state}, {"by_kernel", by_kernel}, {"fixes", fixes},
              {"exposed", exposed}, {"rollouts", rs}};
}

HttpResponse Api::Impl::fleet_get(const RouteCall&) {
  NR_TRY_RESP(auto j, fleet_json());
  return json_response(200, j);
}

HttpResponse Api::Impl::audit_get(const RouteCall& call) { return list_audit_request(call.req); }  // api_feed_audit.cc

HttpResponse Api::Impl::audit_post(const RouteCall& call) { return record_tool_audit(call.req, *call.actor); }

}  // namespace noreboot::server
