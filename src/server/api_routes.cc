// The API's route table and the dispatch through it (route_table.h has the design).
//
// Every route of docs/api.md is one row here: method, pattern, role, handler. The dispatch
// refuses what no row takes, authenticates for the row's role, then calls the handler:
//   1. A path that matches no row: outside /v1 it is the dashboard's (dashboard.cc); under
//      /v1 it is 404, after an admin token check (an unknown /v1 path tells nothing to a
//      caller without a token).
//   2. A path that matches rows but not for this method: 405 with an Allow header. On a path
//      with admin rows the admin token is checked first (write role unless GET or HEAD), as
//      for its known methods; on the agents' paths (enroll, check-in, report) anyone gets it.
//   3. A {sha256} placeholder must be 64 lowercase hex before anything else (a bundle id is
//      public: checking it first tells no secret).
//   4. The role: open, host (the credential, cached), host_or_reader (an nra_ token is
//      checked as an admin token of either role, anything else as a host credential),
//      reader (either admin role) or admin (the admin role).
//   5. A write's body must be declared with the row's media type (content_type.h): 415
//      otherwise, before the handler reads anything.
// The /metrics label of a request is the pattern of the row its path matches: route_label
// (route_labels.h) reads the patterns from this table, with the dashboard's pages.
#include "server/api_impl.h"
#include "server/content_type.h"
#include "server/route_labels.h"
#include "server/token_prefixes.h"

namespace noreboot::server {
namespace {

bool is_get(const std::string& method) { return method == "GET" || method == "HEAD"; }

// Rows only agents call: their 405 needs no token.
template <typename Handler>
bool agent_only(const std::vector<const Route<Handler>*>& rows) {
  for (const auto* r : rows)
    if (r->role != Role::open && r->role != Role::host) return false;
  return true;
}

}  // namespace

const RouteTable<Api::Impl::Handler>& Api::Impl::routes() {
  using Impl = Api::Impl;
  // A handler that answers at once, one that answers later (after a group commit or a long
  // poll), and one that is given a fixed word of its path (a rollout action, a token kind).
  auto answer = [](HttpResponse (Impl::*f)(const RouteCall&)) -> Handler {
    return [f](Impl& m, const RouteCall& c, Respond& respond) { respond((m.*f)(c)); };
  };
  auto later = [](void (Impl::*f)(const RouteCall&, Respond)) -> Handler {
    return [f](Impl& m, const RouteCall& c, Respond& respond) { (m.*f)(c, std::move(respond)); };
  };
  auto with = [](HttpResponse (Impl::*f)(const RouteCall&, const std::string&), const char* word) -> Handler {
    return [f, word](Impl& m, const RouteCall& c, Respond& respond) { respond((m.*f)(c, word)); };
  };
  static const RouteTable<Handler> table({
      // Operations.
      {"GET", PathPattern("/healthz"), Role::open, answer(&Impl::healthz_get)},
      {"GET", PathPattern("/metrics"), Role::open, answer(&Impl::metrics_get)},
      // Agents.
      {"POST", PathPattern("/v1/enroll"), Role::open, answer(&Impl::enroll)},
      {"POST", PathPattern("/v1/checkin"), Role::host, later(&Impl::checkin)},
      {"POST", PathPattern("/v1/report"), Role::host, later(&Impl::report)},
      {"GET", PathPattern("/v1/bundles/{sha256}"), Role::host_or_reader, answer(&Impl::download)},
      // Admin API.
      {"GET", PathPattern("/v1/bundles"), Role::reader, answer(&Impl::bundles_get)},
      {"POST", PathPattern("/v1/bundles"), Role::admin, answer(&Impl::bundles_post)},
      {"GET", PathPattern("/v1/fixes"), Role::reader, answer(&Impl::fixes_get)},
      {"POST", PathPattern("/v1/fixes"), Role::admin, answer(&Impl::fixes_post)},
      {"GET", PathPattern("/v1/fixes/{id}"), Role::reader, answer(&Impl::fix_get)},
      {"POST", PathPattern("/v1/fixes/{id}/approve"), Role::admin, answer(&Impl::fix_approve)},
      {"GET", PathPattern("/v1/rollouts"), Role::reader, answer(&Impl::rollouts_get)},
      {"POST", PathPattern("/v1/rollouts"), Role::admin, answer(&Impl::rollouts_post)},
      {"GET", PathPattern("/v1/rollouts/{id}"), Role::reader, answer(&Impl::rollout_get)},
      {"POST", PathPattern("/v1/rollouts/{id}/promote"), Role::admin, with(&Impl::rollout_action, "promote")},
      {"POST", PathPattern("/v1/rollouts/{id}/halt"), Role::admin, with(&Impl::rollout_action, "halt")},
      {"POST", PathPattern("/v1/rollouts/{id}/resume"), Role::admin, with(&Impl::rollout_action, "resume")},
      {"POST", PathPattern("/v1/rollouts/{id}/approve"), Role::admin, with(&Impl::rollout_action, "approve")},
      {"GET", PathPattern("/v1/pins"), Role::reader, answer(&Impl::pins_get)},
      {"POST", PathPattern("/v1/pins"), Role::admin, answer(&Impl::pins_post)},
      {"DELETE", PathPattern("/v1/pins/{group}"), Role::admin, answer(&Impl::pin_delete)},
      {"GET", PathPattern("/v1/hosts"), Role::reader, answer(&Impl::hosts_get)},
      {"GET", PathPattern("/v1/hosts/{id}"), Role::reader, answer(&Impl::host_get)},
      {"DELETE", PathPattern("/v1/hosts/{id}"), Role::admin, answer(&Impl::host_delete)},
      {"GET", PathPattern("/v1/fleet"), Role::reader, answer(&Impl::fleet_get)},
      {"GET", PathPattern("/v1/audit"), Role::reader, answer(&Impl::audit_get)},
      {"POST", PathPattern("/v1/audit"), Role::admin, answer(&Impl::audit_post)},
      {"GET", PathPattern("/v1/tokens/enrollment"), Role::reader, with(&Impl::tokens_get, "enrollment")},
      {"POST", PathPattern("/v1/tokens/enrollment"), Role::admin, with(&Impl::tokens_post, "enrollment")},
      {"DELETE", PathPattern("/v1/tokens/enrollment/{id}"), Role::admin, with(&Impl::token_delete, "enrollment")},
      {"GET", PathPattern("/v1/tokens/admin"), Role::reader, with(&Impl::tokens_get, "admin")},
      {"POST", PathPattern("/v1/tokens/admin"), Role::admin, with(&Impl::tokens_post, "admin")},
      {"DELETE", PathPattern("/v1/tokens/admin/{id}"), Role::admin, with(&Impl::token_delete, "admin")},
  });
  return table;
}

std::vector<std::string> api_route_patterns() { return Api::Impl::routes().patterns(); }

const std::string& RouteCall::capture(std::string_view name) const {
  static const std::string none;
  auto it = captures.find(name);
  return it == captures.end() ? none : it->second;
}

void Api::Impl::route(const HttpRequest& req, Respond respond) {
  auto seg = split_path(req.path);
  const bool get = is_get(req.method);
  auto found = routes().find(req.method, seg);
  const bool under_v1 = !seg.empty() && seg[0] == "v1";

  if (found.same_path.empty() && !under_v1) return respond(dashboard(req, seg));
  if (!found.route) {
    Fail f{};
    if ((found.same_path.empty() || !agent_only(found.same_path)) && !auth_admin(req, !get, f))
      return respond(error_response(f));
    if (found.same_path.empty())
      return respond(not_found_response("no API route " + req.method + " " + req.path.substr(0, 128) +
                                        " (see docs/api.md)"));
    HttpResponse r = error_response({405, "method_not_allowed", "allowed here: " + found.allowed});
    r.headers.emplace_back("Allow", found.allowed);
    return respond(std::move(r));
  }
  const Route<Handler>& row = *found.route;
  RouteCall call{req, std::move(found.captures)};
  if (auto sha = call.captures.find("sha256"); sha != call.captures.end() && !api::is_sha256_hex(sha->second))
    return respond(bad_request("bundle id '" + sha->second.substr(0, 80) +
                               "' must be the bundle's SHA-256: 64 lowercase hex characters"));

  Fail f{};
  std::optional<TokenRecord> actor;
  std::optional<AuthedHost> host;
  switch (row.role) {
    case Role::open: break;
    case Role::host:
      if (!(host = auth_host(req, f))) return respond(error_response(f));
      break;
    case Role::host_or_reader:
      if (is_admin_token(bearer(req))) {
        if (!(actor = auth_admin(req, false, f))) return respond(error_response(f));
      } else if (!(host = auth_host(req, f))) {
        return respond(error_response(f));
      }
      break;
    case Role::reader:
    case Role::admin:
      if (!(actor = auth_admin(req, row.role == Role::admin, f))) return respond(error_response(f));
      break;
  }
  if (auto problem = content_type_problem(req, !req.body.empty(), body_media_type(row.method, row.pattern.text())))
    return respond(error_response({415, "unsupported_media_type", *problem}));
  call.actor = actor ? &*actor : nullptr;
  call.host = host ? &*host : nullptr;
  row.handler(*this, call, respond);
}

}  // namespace noreboot::server
