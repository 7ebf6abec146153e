// The web dashboard and /metrics: server-rendered HTML, no JavaScript, no external assets.
//
// Problem: operators want to see the fleet (hosts by state and kernel, which fix runs where,
// who is still exposed), rollouts with their stage progress, a host's history and a fix's
// exposure and timeline, in a browser, without another service; and to halt, resume or
// promote a rollout from there, without the browser holding a credential that another site
// could make it use. Approach: a few pages rendered from the same queries as the JSON API
// (fleet_json, rollout_to_json, fix_exposure), escaped with html_escape. Logging in exchanges
// an admin or read token for a server-side session (dashboard_session.h); each page view
// re-reads the token behind the session, so revoking it logs the browser out. Actions are
// form POSTs carrying a per-session, per-action token; they run the API's own admin handler
// (Impl::rollout_action) as the session's token, so they are checked, audited and applied exactly as
// `POST /v1/rollouts/{id}/{action}` is. Pages and actions are rows of their own route table
// (route_table.h; Pages::routes below), whose role says what a request needs: nothing
// (login, logout), a session (the pages), a session of an admin-role token (the buttons).
// Trade-off: no live updates (a meta refresh every 10 s) — enough for watching a rollout.
#include <algorithm>
#include <ctime>
#include <sstream>

#include "core/manifest.h"
#include "server/api_impl.h"
#include "server/dashboard_html.h"
#include "server/route_labels.h"

namespace noreboot::server {
namespace {

std::string fmt_time(std::int64_t t) { return readable_utc(t); }

HttpResponse login_page(int status, const std::string& message) {
  std::string body =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>noreboot - log in</title></head><body>"
      "<h1>noreboot</h1>" +
      (message.empty() ? "" : "<p id=\"login-error\">" + html_escape(message) + "</p>") +
      "<form method=\"post\" action=\"/login\"><label>Admin or read token <input type=\"password\" "
      "name=\"token\" autocomplete=\"off\"></label> <button>Log in</button></form></body></html>";
  return dashboard_html(status, body);
}

HttpResponse redirect(const std::string& to) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain";
  r.headers.emplace_back("Location", to);
  return r;
}

// A refused action: the page says why and that nothing changed.
HttpResponse refused_page(int status, const std::string& title, const std::string& why, const DashboardView* view) {
  return dashboard_html(status, dashboard_page(title, "<h1>" + html_escape(title) + "</h1><p id=\"refused\">" +
                                                          html_escape(why) + "</p><p>Nothing was changed.</p>",
                                               false, view));
}

// Whether an admin token record may still be used (as auth_admin decides for /v1).
bool token_usable(const std::optional<TokenRecord>& t, std::int64_t now) {
  return t && t->kind == "admin" && !t->revoked && (t->expires_at == 0 || t->expires_at > now);
}

bool rollout_id_ok(const std::string& s) {
  return id_ok(s, "r_", 16);
}

std::string short_sha(const std::string& s) { return s.substr(0, 12); }

}  // namespace

std::string dashboard_page(const std::string& title, const std::string& body, bool refresh, const DashboardView* view) {
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset=\"utf-8\"><title>" << html_escape(title)
    << " - noreboot</title>" << (refresh ? "<meta http-equiv=\"refresh\" content=\"10\">" : "")
    << "<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
       "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}"
       ".bar{background:#eee;width:200px;height:12px;display:inline-block}.fill{background:#3a7;height:12px}"
       ".halted{color:#b00;font-weight:bold}.completed{color:#070}.running{color:#05a}code{font-size:90%}"
       "nav a{margin-right:1em}form.act{display:inline;margin-right:.4em}#refused{color:#b00}</style></head><body>"
       "<nav><a href=\"/\">Fleet</a><a href=\"/fixes\">Fixes</a><a href=\"/hosts\">Hosts</a>";
  if (view)
    o << "<span id=\"who\">" << html_escape(view->token.name.empty() ? view->token.id : view->token.name) << " ("
      << html_escape(view->token.role) << ")</span> <form method=\"post\" action=\"/logout\" class=\"act\">"
      << "<input type=\"hidden\" name=\"csrf\" value=\"" << DashboardSessions::form_token(view->session, "/logout")
      << "\"><button>Log out</button></form>";
  o << "</nav>" << body << "</body></html>";
  return o.str();
}

HttpResponse dashboard_html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  return r;
}

std::string rollout_action_forms(const DashboardView& view, const std::string& rollout_id, const std::string& state,
                                 const std::string& back) {
  if (!view.can_act()) return "";
  std::string out;
  auto form = [&](const char* action, const char* label) {
    std::string path = "/rollouts/" + rollout_id + "/" + action;
    out += "<form method=\"post\" action=\"" + html_escape(path) + "\" class=\"act\"><input type=\"hidden\" name=\"csrf\" value=\"" +
           DashboardSessions::form_token(view.session, path) + "\"><input type=\"hidden\" name=\"back\" value=\"" +
           html_escape(back) + "\"><button id=\"" + std::string(action) + "-" + html_escape(rollout_id) + "\">" + label +
           "</button></form>";
  };
  if (state == "running") {
    form("halt", "Halt");
    form("promote", "Promote");
  } else if (state == "halted") {
    form("resume", "Resume");
  } else if (state == "awaiting_approval") {
    form("approve", "Approve");
  }
  return out;
}

// The dashboard's handlers and their route table. Members of Api::Impl's scope, because Impl is
// private to Api; the pages themselves only use Impl's queries.
struct Api::Impl::Pages {
  // One dashboard request as its handler sees it (the dispatch below has the rules).
  struct Call {
    const HttpRequest& req;
    const std::vector<std::string>& seg;
    Captures captures;
    std::int64_t now;
    std::string cookie_attrs;       // the attributes of every cookie the dashboard sets
    std::string session_id;         // from the request's cookie; "" without one
    const DashboardView* view;      // the logged-in browser; null on the open rows
    const std::string& capture(const char* name) const { return captures.at(name); }
  };
  using Handler = HttpResponse (*)(Impl&, const Call&);

  static HttpResponse login_form(Impl&, const Call&) { return login_page(200, ""); }

  static HttpResponse login_post(Impl& m, const Call& c) {
    auto form = parse_query(c.req.body);
    std::string token = form["token"];
    HttpRequest probe;
    probe.headers["authorization"] = "Bearer " + token;
    Fail f{};
    if (!m.auth_admin(probe, false, f))
      return login_page(f.status == 503 ? 503 : 401, f.status == 503 ? "The store is unavailable; try again shortly."
                                                                     : "That token is not a valid admin or read token.");
    if (!c.session_id.empty()) m.sessions.remove(c.session_id);  // a new login replaces the old session
    auto session = m.sessions.create(sha256_hex(token), c.now);
    HttpResponse r = redirect("/");
    // The cookie of older servers (the raw token) is cleared; then the session's.
    r.headers.emplace_back("Set-Cookie", "nr_token=; Max-Age=0" + c.cookie_attrs);
    r.headers.emplace_back("Set-Cookie", std::string(DashboardSessions::kCookie) + "=" + session.id +
                                             "; Max-Age=" + std::to_string(DashboardSessions::kLifetimeSeconds) + c.cookie_attrs);
    return r;
  }

  static HttpResponse go_home(Impl&, const Call&) { return redirect("/"); }

  static HttpResponse logout_post(Impl& m, const Call& c) {
    auto session = c.session_id.empty() ? std::nullopt : m.sessions.find(c.session_id, c.now);
    if (session && !DashboardSessions::form_token_ok(*session, "/logout", parse_query(c.req.body)["csrf"]))
      return refused_page(403, "Not logged out", "This logout form did not come from your dashboard session.", nullptr);
    if (session) m.sessions.remove(session->id);
    HttpResponse r = redirect("/");
    r.headers.emplace_back("Set-Cookie", std::string(DashboardSessions::kCookie) + "=; Max-Age=0" + c.cookie_attrs);
    return r;
  }

  static HttpResponse fleet_page(Impl& m, const Call& c) {
    std::ostringstream o;
    NR_TRY_RESP(auto fleet, m.fleet_json());
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
    o << "</table><h2>Fixes</h2><table id=\"fix-exposure\"><tr><th>fix</th><th>live-patched</th><th>exposed</th>"
         "<th>kernel already fixed</th><th>no patch for the kernel</th></tr>";
    NR_TRY_RESP(auto fixes, m.fix_exposure(""));
    for (const auto& f : fixes)
      o << "<tr><td><a href=\"/fixes/" << html_escape(f["id"].get<std::string>()) << "\">"
        << html_escape(f["id"].get<std::string>()) << "</a></td><td>" << f["hosts"]["patched"]["count"].get<std::int64_t>()
        << "</td><td>" << f["hosts"]["exposed"]["count"].get<std::int64_t>() << "</td><td>"
        << f["hosts"]["already_fixed"]["count"].get<std::int64_t>() << "</td><td>"
        << f["hosts"]["not_built"]["count"].get<std::int64_t>() << "</td></tr>";
    o << "</table><h2>Rollouts</h2><table id=\"rollouts\"><tr><th>id</th><th>patch</th><th>state</th><th>stage</th>"
         "<th>progress</th><th>applied</th><th>failed</th><th>reason</th><th>actions</th></tr>";
    NR_TRY_RESP(auto rollouts, m.store.list_rollouts());
    for (auto it = rollouts.rbegin(); it != rollouts.rend(); ++it) {
      NR_TRY_RESP(auto j, m.rollout_to_json(*it));
      int stage = j["current_stage"].get<int>();
      const auto& stages = j["stages"];
      double percent = stages.empty() ? 0 : stages[std::min<std::size_t>(stage, stages.size() - 1)]["percent"].get<double>();
      std::string state = j["state"].get<std::string>();
      if (state == "completed" && !stages.empty()) percent = stages.back()["percent"].get<double>();
      o << "<tr class=\"rollout\" id=\"" << html_escape(it->id) << "\"><td><code>" << html_escape(it->id) << "</code></td><td>"
        << (j.contains("fix") ? "fix <a href=\"/fixes/" + html_escape(j["fix"].get<std::string>()) + "\">" +
                                     html_escape(j["fix"].get<std::string>()) + "</a> (" +
                                     std::to_string(j["kernels"].size()) + " kernels)"
                               : html_escape(j["patch_name"].get<std::string>()) + " #" +
                                     std::to_string(j["sequence"].get<std::int64_t>()))
        << "</td><td class=\"" << state << "\">" << state << "</td><td>" << stage + 1 << " / " << stages.size()
        << " (" << percent << "%)</td><td><span class=\"bar\"><div class=\"fill\" style=\"width:"
        << static_cast<int>(percent * 2) << "px\"></div></span> " << j["counts"]["in_stage"].get<std::int64_t>()
        << " of " << j["counts"]["targeted"].get<std::int64_t>() << " hosts</td><td>"
        << j["counts"]["applied"].get<std::int64_t>() << "</td><td>" << j["counts"]["failed"].get<std::int64_t>()
        << "</td><td>" << html_escape(it->halt_reason) << "</td><td>" << rollout_action_forms(*c.view, it->id, state, "fleet")
        << "</td></tr>";
    }
    o << "</table>";
    return dashboard_html(200, dashboard_page("Fleet", o.str(), true, c.view));
  }

  static HttpResponse hosts_page(Impl& m, const Call& c) {
    std::ostringstream o;
    HostFilter filter;
    filter.limit = 500;
    if (auto s = c.req.query.find("state"); s != c.req.query.end() && api::parse_agent_state(s->second)) filter.state = s->second;
    NR_TRY_RESP(auto hosts, m.store.list_hosts(filter));
    NR_TRY_RESP(auto total, m.store.count_hosts(filter));
    o << "<h1>Hosts</h1><p>" << total << " hosts" << (total > 500 ? " (first 500)" : "") << "</p>"
      << "<table id=\"hosts\"><tr><th>host</th><th>group</th><th>kernel</th><th>state</th><th>applied</th><th>last seen</th></tr>";
    for (const auto& h : hosts)
      o << "<tr><td><a href=\"/hosts/" << html_escape(h.id) << "\">" << html_escape(h.hostname) << "</a></td><td>"
        << html_escape(h.group) << "</td><td>" << html_escape(h.kernel.release) << "</td><td>" << html_escape(h.state)
        << "</td><td>" << (h.applied ? html_escape(h.applied->name) + " #" + std::to_string(h.applied->sequence) : "-")
        << "</td><td>" << fmt_time(h.last_seen) << "</td></tr>";
    o << "</table>";
    return dashboard_html(200, dashboard_page("Hosts", o.str(), true, c.view));
  }

  static HttpResponse host_page(Impl& m, const Call& c) {
    std::ostringstream o;
    NR_TRY_RESP(auto h, m.store.get_host(c.capture("id")));
    if (!h) return dashboard_html(404, dashboard_page("Not found", "<h1>No such host</h1>", false, c.view));
    NR_TRY_RESP(auto hist, m.store.host_history(h->id, 100));
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
    return dashboard_html(200, dashboard_page("Host " + h->hostname, o.str(), false, c.view));
  }

  static HttpResponse fixes_page(Impl& m, const Call& c) { return m.fix_pages(c.seg, *c.view); }

  // POST /rollouts/{id}/{halt|resume|promote|approve}: csrf (this session's token for this
  // path), back ("fleet" or "fix": the page to return to). Runs the API's own handler as the
  // session's token, so the action is checked and audited as its /v1 twin is.
  static HttpResponse rollout_action_post(Impl& m, const Call& c) {
    const DashboardView& view = *c.view;
    const std::string& id = c.capture("id");
    const std::string& action = c.seg[2];
    auto form = parse_query(c.req.body);
    if (!DashboardSessions::form_token_ok(view.session, c.req.path, form["csrf"]))
      return refused_page(403, "Form token missing or wrong",
                          "This form did not come from your dashboard session (or the session changed since the page "
                          "was loaded). Reload the page and press the button again.", &view);
    HttpRequest api_req;
    api_req.method = "POST";
    api_req.path = "/v1/rollouts/" + id + "/" + action;
    api_req.target = api_req.path;
    api_req.remote = c.req.remote;
    if (action == "halt")
      api_req.body = json{{"reason", "halted from the dashboard by " + (view.token.name.empty() ? view.token.id : view.token.name)}}.dump();
    RouteCall call{api_req, {{"id", id}}, &view.token};
    HttpResponse done = m.rollout_action(call, action);
    json j = json::parse(done.body, nullptr, false);
    if (done.status != 200) {
      std::string why = !j.is_discarded() && j.contains("error") ? j["error"].value("message", "") : done.body;
      return refused_page(done.status, "Could not " + action + " the rollout", why, &view);
    }
    std::string fix = !j.is_discarded() ? j.value("fix", "") : "";
    return redirect(form["back"] == "fix" && !fix.empty() ? "/fixes/" + fix : "/");
  }

  // The dashboard's pages and actions. Role::open: no session needed; reader: a session whose
  // token has either role; admin: a session whose token has the admin role (the buttons).
  static const RouteTable<Handler>& routes() {
    static const RouteTable<Handler> table({
        {"GET", PathPattern("/"), Role::reader, fleet_page},
        {"POST", PathPattern("/login"), Role::open, login_post},
        {"*", PathPattern("/login"), Role::open, login_form},
        {"POST", PathPattern("/logout"), Role::open, logout_post},
        {"*", PathPattern("/logout"), Role::open, go_home},
        {"GET", PathPattern("/hosts"), Role::reader, hosts_page},
        {"GET", PathPattern("/hosts/{id}"), Role::reader, host_page},
        {"GET", PathPattern("/fixes"), Role::reader, fixes_page},
        {"GET", PathPattern("/fixes/{id}"), Role::reader, fixes_page},
        {"POST", PathPattern("/rollouts/{id}/halt"), Role::admin, rollout_action_post},
        {"POST", PathPattern("/rollouts/{id}/resume"), Role::admin, rollout_action_post},
        {"POST", PathPattern("/rollouts/{id}/promote"), Role::admin, rollout_action_post},
        {"POST", PathPattern("/rollouts/{id}/approve"), Role::admin, rollout_action_post},
    });
    return table;
  }
};

// The dashboard's pages and actions, for the /metrics labels (route_labels.h).
std::vector<std::string> dashboard_route_patterns() { return Api::Impl::Pages::routes().patterns(); }

// The dispatch: an open row runs at once. Every other request, known path or not, needs a
// live session whose token is still valid: without one a GET gets the login page and
// anything else 403. Then a path no row takes is 405 "not an action" for a write and 404 for
// a GET; a rollout action needs a rollout id (405 otherwise) and the admin role (403).
HttpResponse Api::Impl::dashboard(const HttpRequest& req, const std::vector<std::string>& seg) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  const std::int64_t t = now();
  const std::string cookie_attrs = std::string("; Path=/; HttpOnly; SameSite=Strict") + (opt.secure_cookies ? "; Secure" : "");
  const std::string session_id = DashboardSessions::cookie_value(req.header("cookie"));
  auto found = Pages::routes().find(req.method, seg);
  Pages::Call call{req, seg, std::move(found.captures), t, cookie_attrs, session_id, nullptr};
  if (found.route && found.route->role == Role::open) return found.route->handler(*this, call);

  auto session = session_id.empty() ? std::nullopt : sessions.find(session_id, t);
  if (!session) {
    if (!get)
      return refused_page(403, "Not logged in", "This action needs a dashboard session: log in, then use the buttons "
                                                "on the fix or fleet page.", nullptr);
    return login_page(200, session_id.empty() ? "" : "Your session has ended; log in again.");
  }
  auto token = store.find_token(session->token_hash);
  if (!token) return dashboard_html(503, dashboard_page("Unavailable", "<h1>The store is unavailable</h1><p>" +
                                                                          html_escape(token.error().message()) +
                                                                          "</p><p>Reload in a few seconds.</p>", false, nullptr));
  if (!token_usable(*token, t)) {
    sessions.remove(session->id);
    if (!get) return refused_page(403, "Not logged in", "The token behind your session was revoked or expired.", nullptr);
    return login_page(200, "The token you logged in with was revoked or expired; log in again.");
  }
  DashboardView view{*session, **token};
  call.view = &view;

  const bool action = found.route && found.route->pattern.text().starts_with("/rollouts/");
  if (!get && (!found.route || (action && !rollout_id_ok(call.capture("id")))))
    return refused_page(405, "Not an action", "The dashboard acts only through its buttons: POST "
                                              "/rollouts/{id}/halt, /resume or /promote.", &view);
  if (!found.route) return dashboard_html(404, dashboard_page("Not found", "<h1>Not found</h1>", false, &view));
  if (found.route->role == Role::admin && !view.can_act())
    return refused_page(403, "Not allowed", "Token '" + view.token.name + "' has the read role; halting, resuming "
                                            "and promoting need an admin token.", &view);
  return found.route->handler(*this, call);
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
    for (auto s : {"running", "halted", "completed", "awaiting_approval"}) by[s] = 0;
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
