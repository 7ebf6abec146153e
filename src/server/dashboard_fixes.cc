// The dashboard's fix pages: /fixes (every fix with its exposure counts) and /fixes/{id} (one
// fix: who is patched, exposed, already fixed or not covered, on which kernels; what its
// record says per kernel; its rollouts with their buttons; a timeline of hosts patched and
// failed with the rollouts' stage changes and halts marked).
//
// Everything shown comes from the JSON API's own computations (fix_exposure, rollout_to_json),
// so the page and `GET /v1/fixes/{id}` cannot disagree. The timeline reads two things the API
// does not serve: when each host reported its outcome for the fix's bundles (host_bundle's
// updated_at), and the rollouts' entries in the audit log (created, stage advanced, promoted,
// halted by hand or by the failure budget, resumed, completed).
#include <algorithm>
#include <set>
#include <sstream>

#include "core/fix_record.h"
#include "core/manifest.h"
#include "server/api_impl.h"
#include "server/dashboard_html.h"
#include "server/dashboard_svg.h"

namespace noreboot::server {
namespace {

const char* const kGroups[] = {"patched", "exposed", "already_fixed", "not_built", "not_covered"};
const char* group_title(const std::string& g) {
  if (g == "patched") return "live-patched";
  if (g == "exposed") return "exposed";
  if (g == "already_fixed") return "kernel already fixed";
  if (g == "not_built") return "no patch for this kernel";
  return "kernel not in the fix record";
}

// An audit action of a rollout ("rollout.halted", "rollout.promote", …) as a timeline mark.
TimelineMark mark_of(const AuditEntry& e) {
  std::string what = e.action.substr(std::string("rollout.").size());
  json d = json::parse(e.detail, nullptr, false);
  int stage = !d.is_discarded() && d.contains("stage") && d["stage"].is_number_integer() ? d["stage"].get<int>() : 0;
  TimelineMark m{e.time, what, what};
  if (what == "create") m.label = "created";
  else if (what == "advanced" || what == "promote") m = {e.time, "advance", "stage " + std::to_string(stage + 1)};
  else if (what == "halt" || what == "halted") m = {e.time, "halt", "halted"};
  else if (what == "resume") m = {e.time, "resume", "resumed"};
  else if (what == "approve") m = {e.time, "resume", "approved"};
  else if (what == "completed") m = {e.time, "complete", "completed"};
  return m;
}

}  // namespace

HttpResponse Api::Impl::fix_pages(const std::vector<std::string>& seg, const DashboardView& view) {
  std::ostringstream o;
  if (seg.size() == 1) {
    NR_TRY_RESP(auto fixes, fix_exposure(""));
    o << "<h1>Fixes</h1><table id=\"fixes-list\"><tr><th>fix</th><th>description</th>";
    for (const char* g : kGroups) o << "<th>" << group_title(g) << "</th>";
    o << "<th>hosts</th></tr>";
    for (const auto& f : fixes) {
      std::string id = f["id"].get<std::string>();
      o << "<tr class=\"fix\" id=\"fix-" << html_escape(id) << "\"><td><a href=\"/fixes/" << html_escape(id) << "\">"
        << html_escape(id) << "</a></td><td>" << html_escape(f["description"].get<std::string>()) << "</td>";
      for (const char* g : kGroups) o << "<td class=\"" << g << "\">" << f["hosts"][g]["count"].get<std::int64_t>() << "</td>";
      o << "<td>" << f["hosts"]["total"].get<std::int64_t>() << "</td></tr>";
    }
    o << "</table>";
    if (fixes.empty()) o << "<p>No fix records yet (noreboot-admin publish DIR uploads a build's record and bundles).</p>";
    return dashboard_html(200, dashboard_page("Fixes", o.str(), true, &view));
  }
  if (seg.size() != 2 || !valid_fix_id(seg[1]))
    return dashboard_html(404, dashboard_page("Not found", "<h1>No such fix</h1><p>Fix ids are 1-128 of A-Z a-z 0-9 . _ + -.</p>",
                                              false, &view));
  const std::string& id = seg[1];
  NR_TRY_RESP(auto found, fix_exposure(id));
  if (found.empty())
    return dashboard_html(404, dashboard_page("Not found", "<h1>No fix " + html_escape(id) + "</h1><p>No fix record names it.</p>",
                                              false, &view));
  const json& f = found[0];

  o << "<h1>Fix " << html_escape(id) << "</h1><p id=\"description\">" << html_escape(f["description"].get<std::string>())
    << "</p><h2>Exposure</h2><table id=\"exposure\"><tr><th>hosts</th><th>count</th><th>kernels</th></tr>";
  for (const char* g : kGroups) {
    const json& grp = f["hosts"][g];
    o << "<tr class=\"" << g << "\"><td>" << group_title(g) << "</td><td class=\"count\" id=\"count-" << g << "\">"
      << grp["count"].get<std::int64_t>() << "</td><td>";
    bool first = true;
    for (const auto& k : grp["kernels"]) {
      o << (first ? "" : ", ") << html_escape(k["release"].get<std::string>()) << " (" << k["count"].get<std::int64_t>() << ")";
      first = false;
    }
    o << "</td></tr>";
  }
  o << "</table>";

  // What the record says per kernel.
  std::set<std::string> bundles;
  o << "<h2>Kernels</h2><table id=\"fix-kernels\"><tr><th>release</th><th>Debian version</th><th>outcome</th>"
       "<th>bundle or reason</th></tr>";
  for (const auto& k : f["kernels"]) {
    o << "<tr><td>" << html_escape(k["release"].get<std::string>()) << "</td><td>" << html_escape(k["version"].get<std::string>())
      << "</td><td>" << html_escape(k["outcome"].get<std::string>()) << "</td><td>";
    if (k.contains("bundle_sha256")) {
      bundles.insert(k["bundle_sha256"].get<std::string>());
      o << "<code>" << html_escape(k["bundle_sha256"].get<std::string>().substr(0, 12)) << "</code> sequence "
        << k["sequence"].get<std::int64_t>();
    } else {
      o << html_escape(k.value("reason", ""));
    }
    o << "</td></tr>";
  }
  o << "</table>";

  // Its rollouts: fix rollouts of this id, and bundle rollouts of one of its bundles.
  NR_TRY_RESP(auto rollouts, store.list_rollouts());
  TimelineData timeline;
  timeline.now = now();
  o << "<h2>Rollouts</h2><table id=\"fix-rollouts\"><tr><th>id</th><th>state</th><th>stage</th><th>targeted</th>"
       "<th>in stage</th><th>applied</th><th>failed</th><th>reason</th><th>actions</th></tr>";
  int shown = 0;
  for (auto it = rollouts.rbegin(); it != rollouts.rend(); ++it) {
    const RolloutRecord& r = *it;
    if (r.fix_id != id && !(r.fix_id.empty() && bundles.count(r.bundle_sha256))) continue;
    ++shown;
    for (const auto& sha : r.all_bundles()) bundles.insert(sha);
    NR_TRY_RESP(auto j, rollout_to_json(r));
    std::string state = j["state"].get<std::string>();
    const auto& stages = j["stages"];
    int stage = j["current_stage"].get<int>();
    double percent = stages.empty() ? 0 : stages[std::min<std::size_t>(stage, stages.size() - 1)]["percent"].get<double>();
    if (state == "completed" && !stages.empty()) percent = stages.back()["percent"].get<double>();
    const auto& c = j["counts"];
    o << "<tr class=\"rollout\" id=\"" << html_escape(r.id) << "\"><td><code>" << html_escape(r.id) << "</code></td><td class=\""
      << state << "\">" << (state == "awaiting_approval" ? "awaiting approval" : state) << "</td><td>" << stage + 1 << " / " << stages.size() << " (" << percent << "%)</td><td>"
      << c["targeted"].get<std::int64_t>() << "</td><td>" << c["in_stage"].get<std::int64_t>() << "</td><td class=\"applied\">"
      << c["applied"].get<std::int64_t>() << "</td><td class=\"failed\">" << c["failed"].get<std::int64_t>() << "</td><td>"
      << html_escape(r.halt_reason) << "</td><td>" << rollout_action_forms(view, r.id, state, "fix") << "</td></tr>";
    NR_TRY_RESP(auto events, store.audit_mentioning("rollout.", r.id, 500));
    for (const auto& e : events) {
      json d = json::parse(e.detail, nullptr, false);  // the id is in "id" (admin) or "rollout" (ticker)
      if (d.is_discarded() || (d.value("id", "") != r.id && d.value("rollout", "") != r.id)) continue;
      timeline.marks.push_back(mark_of(e));
    }
  }
  o << "</table>";
  if (shown == 0) o << "<p>No rollout yet (noreboot-admin rollout create --fix " << html_escape(id) << ").</p>";

  NR_TRY_RESP(auto times, store.outcome_times(std::vector<std::string>(bundles.begin(), bundles.end())));
  for (const auto& t : times) (t.outcome == "applied" ? timeline.patched : timeline.failed).push_back(t.time);
  o << "<h2>Timeline</h2><p>Hosts that reported this fix's bundles applied (green) or failed (red), by the time of "
       "their last report; dashed lines mark the rollouts' stage changes, halts and resumes.</p>"
    << timeline_svg(std::move(timeline));
  return dashboard_html(200, dashboard_page("Fix " + id, o.str(), true, &view));
}

}  // namespace noreboot::server
