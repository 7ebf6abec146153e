// The web dashboard and /metrics: server-rendered HTML, no JavaScript, no external assets.
//
// Problem: operators want to see the fleet (hosts by state and kernel, which fix runs where,
// who is still exposed), rollouts with their stage progress and a host's history, in a
// browser, without another service. Approach: a few pages rendered from the same queries as
// the JSON API (fleet_json, rollout_to_json), escaped with html_escape. Login is a form that
// stores an admin or read token in an HttpOnly, SameSite=Lax cookie (8 hours); the pages only read,
// so there is no state-changing form to protect against CSRF. Trade-off: no live updates
// (a meta refresh every 10 s) — enough for watching a rollout.
#include <ctime>
#include <sstream>

#include "core/manifest.h"
#include "server/api_impl.h"

namespace noreboot::server {
namespace {

std::string fmt_time(std::int64_t t) { return readable_utc(t); }

std::string page(const std::string& title, const std::string& body, bool refresh) {
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset=\"utf-8\"><title>" << html_escape(title)
    << " - noreboot</title>" << (refresh ? "<meta http-equiv=\"refresh\" content=\"10\">" : "")
    << "<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
       "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}"
       ".bar{background:#eee;width:200px;height:12px;display:inline-block}.fill{background:#3a7;height:12px}"
       ".halted{color:#b00;font-weight:bold}.completed{color:#070}.running{color:#05a}code{font-size:90%}"
       "nav a{margin-right:1em}</style></head><body>"
       "<nav><a href=\"/\">Fleet</a><a href=\"/hosts\">Hosts</a>"
       "<form method=\"post\" action=\"/logout\" style=\"display:inline\"><button>Log out</button></form></nav>"
    << body << "</body></html>";
  return o.str();
}

HttpResponse html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

HttpResponse login_page(const std::string& message) {
  std::string body =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>noreboot - log in</title></head><body>"
      "<h1>noreboot</h1>" +
      (message.empty() ? "" : "<p id=\"login-error\">" + html_escape(message) + "</p>") +
      "<form method=\"post\" action=\"/login\"><label>Admin or read token <input type=\"password\" "
      "name=\"token\" autocomplete=\"off\"></label> <button>Log in</button></form></body></html>";
  HttpResponse r = html(message.empty() ? 200 : 401, body);
  return r;
}

std::string short_sha(const std::string& s) { return s.substr(0, 12); }

}  // namespace

HttpResponse Api::Impl::dashboard(const HttpRequest& req, const std::vector<std::string>& seg) {
  bool get = req.method == "GET" || req.method == "HEAD";
  if (seg.size() == 1 && seg[0] == "login") {
    if (req.method != "POST") return login_page("");
    auto form = parse_query(req.body);
    std::string token = form["token"];
    HttpRequest probe;
    probe.headers["authorization"] = "Bearer " + token;
    Fail f{};
    if (!auth_admin(probe, false, f)) return login_page("That token is not a valid admin or read token.");
    HttpResponse r;
    r.status = 303;
    r.content_type = "text/plain";
    r.headers.emplace_back("Location", "/");
    r.headers.emplace_back("Set-Cookie", "nr_token=" + token + "; Path=/; Max-Age=28800; HttpOnly; SameSite=Lax" +
                                             (opt.secure_cookies ? "; Secure" : ""));
    return r;
  }
  if (seg.size() == 1 && seg[0] == "logout") {
    HttpResponse r;
    r.status = 303;
    r.content_type = "text/plain";
    r.headers.emplace_back("Location", "/");
    r.headers.emplace_back("Set-Cookie", "nr_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    return r;
  }
  if (!get) return error_response({405, "method_not_allowed", "the dashboard only reads (GET)"});
  Fail f{};
  if (req.header("cookie").find("nr_token=") == std::string::npos) return login_page("");
  if (!auth_admin(req, false, f)) return login_page("Your session token is no longer valid; log in again.");

  std::ostringstream o;
  if (seg.empty() || (seg.size() == 1 && seg[0].empty())) {
    NR_TRY_RESP(auto fleet, fleet_json());
    o << "<h1>Fleet</h1><p id=\"host-count\">" << fleet["hosts"].get<std::int64_t>() << " hosts</p>";
    o << "<h2>Hosts by state</h2><table id=\"by-state\"><tr><th>state</th><th>hosts</th></tr>";
    for (auto& [k, v] : fleet["by_state"].items())
      o << "<tr><td><a href=\"/hosts?state=" << html_escape(k) << "\">" << html_escape(k) << "</a></td><td>"
        << v.get<std::int64_t>() << "</td></tr>";
    o << "</table><h2>Hosts by kernel</h2><table id=\"by-kernel\"><tr><th>release</th><th>build id</th><th>hosts</th></tr>";
    for (auto& k : fleet["by_kernel"])
      o << "<tr><td>" << html_escape(k["release"].get<std::string>()) << "</td><td><code>"
        << html_escape(k["build_id"].get<std::string>()) << "</code></td><td>" << k["hosts"].get<std::int64_t>() << "</td></tr>";
    o << "</table><h2>Fixes applied</h2><table id=\"fixes\"><tr><th>patch</th><th>sequence</th><th>bundle</th><th>hosts</th></tr>";
    for (auto& k : fleet["fixes"])
      o << "<tr><td>" << html_escape(k["patch_name"].get<std::string>()) << "</td><td>" << k["sequence"].get<std::int64_t>()
        << "</td><td><code>" << short_sha(k["sha256"].get<std::string>()) << "</code></td><td>" << k["hosts"].get<std::int64_t>()
        << "</td></tr>";
    o << "</table><h2>Still exposed</h2><table id=\"exposed\"><tr><th>kernel</th><th>newest fix</th><th>hosts behind</th></tr>";
    for (auto& k : fleet["exposed"])
      o << "<tr><td>" << html_escape(k["release"].get<std::string>()) << "</td><td>sequence "
        << k["latest_sequence"].get<std::int64_t>() << "</td><td>" << k["hosts_behind"].get<std::int64_t>() << "</td></tr>";
    o << "</table><h2>Rollouts</h2><table id=\"rollouts\"><tr><th>id</th><th>patch</th><th>state</th><th>stage</th>"
         "<th>progress</th><th>applied</th><th>failed</th><th>reason</th></tr>";
    NR_TRY_RESP(auto rollouts, store.list_rollouts());
    for (auto it = rollouts.rbegin(); it != rollouts.rend(); ++it) {
      NR_TRY_RESP(auto j, rollout_to_json(*it));
      int stage = j["current_stage"].get<int>();
      const auto& stages = j["stages"];
      double percent = stages.empty() ? 0 : stages[std::min<std::size_t>(stage, stages.size() - 1)]["percent"].get<double>();
      std::string state = j["state"].get<std::string>();
      if (state == "completed" && !stages.empty()) percent = stages.back()["percent"].get<double>();
      o << "<tr class=\"rollout\" id=\"" << html_escape(it->id) << "\"><td><code>" << html_escape(it->id) << "</code></td><td>"
        << (j.contains("fix") ? "fix " + html_escape(j["fix"].get<std::string>()) + " (" +
                                     std::to_string(j["kernels"].size()) + " kernels)"
                               : html_escape(j["patch_name"].get<std::string>()) + " #" +
                                     std::to_string(j["sequence"].get<std::int64_t>()))
        << "</td><td class=\"" << state << "\">" << state << "</td><td>" << stage + 1 << " / " << stages.size()
        << " (" << percent << "%)</td><td><span class=\"bar\"><div class=\"fill\" style=\"width:"
        << static_cast<int>(percent * 2) << "px\"></div></span> " << j["counts"]["in_stage"].get<std::int64_t>()
        << " of " << j["counts"]["targeted"].get<std::int64_t>() << " hosts</td><td>"
        << j["counts"]["applied"].get<std::int64_t>() << "</td><td>" << j["counts"]["failed"].get<std::int64_t>()
        << "</td><td>" << html_escape(it->halt_reason) << "</td></tr>";
    }
    o << "</table>";
    return html(200, page("Fleet", o.str(), true));
  }
  if (seg.size() == 1 && seg[0] == "hosts") {
    HostFilter filter;
    filter.limit = 500;
    if (auto s = req.query.find("state"); s != req.query.end() && api::parse_agent_state(s->second)) filter.state = s->second;
    NR_TRY_RESP(auto hosts, store.list_hosts(filter));
    NR_TRY_RESP(auto total, store.count_hosts(filter));
    o << "<h1>Hosts</h1><p>" << total << " hosts" << (total > 500 ? " (first 500)" : "") << "</p>"
      << "<table id=\"hosts\"><tr><th>host</th><th>group</th><th>kernel</th><th>state</th><th>applied</th><th>last seen</th></tr>";
    for (const auto& h : hosts)
      o << "<tr><td><a href=\"/hosts/" << html_escape(h.id) << "\">" << html_escape(h.hostname) << "</a></td><td>"
        << html_escape(h.group) << "</td><td>" << html_escape(h.kernel.release) << "</td><td>" << html_escape(h.state)
        << "</td><td>" << (h.applied ? html_escape(h.applied->name) + " #" + std::to_string(h.applied->sequence) : "-")
        << "</td><td>" << fmt_time(h.last_seen) << "</td></tr>";
    o << "</table>";
    return html(200, page("Hosts", o.str(), true));
  }
  if (seg.size() == 2 && seg[0] == "hosts") {
    NR_TRY_RESP(auto h, store.get_host(seg[1]));
    if (!h) return html(404, page("Not found", "<h1>No such host</h1>", false));
    NR_TRY_RESP(auto hist, store.host_history(h->id, 100));
    o << "<h1>Host " << html_escape(h->hostname) << "</h1><table id=\"host\">"
      << "<tr><th>id</th><td><code>" << html_escape(h->id) << "</code></td></tr>"
      << "<tr><th>group</th><td>" << html_escape(h->group) << "</td></tr>"
      << "<tr><th>kernel</th><td>" << html_escape(h->kernel.release) << " <code>" << html_escape(h->kernel.build_id)
      << "</code></td></tr><tr><th>state</th><td id=\"state\">" << html_escape(h->state) << "</td></tr>"
      << "<tr><th>applied</th><td>"
      << (h->applied ? html_escape(h->applied->name) + " #" + std::to_string(h->applied->sequence) : "-")
      << "</td></tr><tr><th>last error</th><td>" << html_escape(h->last_error) << "</td></tr>"
      << "<tr><th>last seen</th><td>" << fmt_time(h->last_seen) << "</td></tr></table>"
      << "<h2>History</h2><table id=\"history\"><tr><th>time</th><th>event</th><th>detail</th></tr>";
    for (const auto& e : hist)
      o << "<tr><td>" << fmt_time(e.time) << "</td><td>" << html_escape(e.kind) << "</td><td><code>"
        << html_escape(e.detail.substr(0, 600)) << "</code></td></tr>";
    o << "</table>";
    return html(200, page("Host " + h->hostname, o.str(), false));
  }
  return html(404, page("Not found", "<h1>Not found</h1>", false));
}

HttpResponse Api::Impl::metrics_text() {
  std::ostringstream o;
  o << "# HELP noreboot_http_requests_total HTTP requests by route and status.\n"
       "# TYPE noreboot_http_requests_total counter\n";
  {
    std::lock_guard lock(metrics.mu);
    for (const auto& [k, n] : metrics.requests)
      o << "noreboot_http_requests_total{route=\"" << k.first << "\",code=\"" << k.second << "\"} " << n << "\n";
  }
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n" << name << " " << v << "\n";
  };
  counter("noreboot_checkins_total", "Check-ins received.", metrics.checkins.load());
  counter("noreboot_offers_total", "Bundle offers made.", metrics.offers.load());
  counter("noreboot_reports_total", "Reports received.", metrics.reports.load());
  counter("noreboot_bundles_published_total", "Bundles published by this server.", metrics.published.load());
  counter("noreboot_longpoll_answered_total", "Long polls answered by the ticker.", metrics.longpoll_answered.load());
  counter("noreboot_longpoll_abandoned_total", "Parked long polls dropped because their client went away.",
          metrics.longpoll_abandoned.load());
  counter("noreboot_longpoll_replaced_total", "Parked long polls answered early because their host parked a newer one.",
          metrics.longpoll_replaced.load());
  {
    std::lock_guard lock(wait_mu);
    o << "# HELP noreboot_longpoll_waiting Check-ins held open right now.\n# TYPE noreboot_longpoll_waiting gauge\n"
      << "noreboot_longpoll_waiting " << waiters.size() << "\n";
  }
  {
    auto gc = committer.stats();
    counter("noreboot_store_commits_total", "Group-commit transactions (group_commit.h).", gc.commits);
    counter("noreboot_store_commit_parts_total", "Request write sets committed in them.", gc.parts);
    counter("noreboot_store_commit_rows_total", "Rows written by group commits.", gc.rows);
    counter("noreboot_store_commit_failures_total", "Write sets answered with an error.", gc.failures);
    o << "# HELP noreboot_store_commit_seconds_total Time spent committing.\n"
         "# TYPE noreboot_store_commit_seconds_total counter\nnoreboot_store_commit_seconds_total "
      << gc.commit_seconds << "\n";
    o << "# HELP noreboot_store_commit_largest_rows Most rows in one transaction.\n"
         "# TYPE noreboot_store_commit_largest_rows gauge\nnoreboot_store_commit_largest_rows "
      << gc.largest << "\n";
    o << "# HELP noreboot_host_cache_entries Host credentials cached in memory.\n"
         "# TYPE noreboot_host_cache_entries gauge\nnoreboot_host_cache_entries "
      << host_cache.size() << "\n";
  }
  o << "# HELP noreboot_hosts Enrolled hosts by agent state.\n# TYPE noreboot_hosts gauge\n";
  if (auto states = store.hosts_by_state())
    for (const auto& c : *states) o << "noreboot_hosts{state=\"" << c.key << "\"} " << c.n << "\n";
  o << "# HELP noreboot_rollouts Rollouts by state.\n# TYPE noreboot_rollouts gauge\n";
  if (auto rollouts = store.list_rollouts()) {
    std::map<std::string, int> by;
    for (auto s : {"running", "halted", "completed"}) by[s] = 0;
    for (const auto& r : *rollouts) by[std::string(rollout_state_name(r.state))]++;
    for (const auto& [k, n] : by) o << "noreboot_rollouts{state=\"" << k << "\"} " << n << "\n";
  }
  // Per fix id (fix ids are [A-Za-z0-9._+-]: nothing to escape in a label).
  if (auto fixes = fix_exposure("")) {
    o << "# HELP noreboot_hosts_exposed Hosts on a kernel the fix was built for, without a bundle carrying it applied.\n"
         "# TYPE noreboot_hosts_exposed gauge\n";
    for (const auto& f : *fixes)
      o << "noreboot_hosts_exposed{fix=\"" << f["id"].get<std::string>() << "\"} " << f["hosts"]["exposed"]["count"] << "\n";
    o << "# HELP noreboot_fix_hosts Hosts per fix and exposure group (api.md, GET /v1/fixes).\n"
         "# TYPE noreboot_fix_hosts gauge\n";
    for (const auto& f : *fixes)
      for (const char* g : {"patched", "exposed", "already_fixed", "not_built", "not_covered"})
        o << "noreboot_fix_hosts{fix=\"" << f["id"].get<std::string>() << "\",group=\"" << g << "\"} "
          << f["hosts"][g]["count"] << "\n";
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = o.str();
  return r;
}

}  // namespace noreboot::server
