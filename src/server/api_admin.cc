// What the admin endpoints share: the audit log and the answers they all give.
// The endpoints themselves are in one file per resource (api_bundles.cc, api_rollouts.cc,
// api_pins.cc, api_hosts.cc, api_fleet.cc, api_tokens.cc, api_fixes.cc); the route table
// that reaches them, with the role each needs, is api_routes.cc. Every change is written to
// the audit log with the acting token's id and name.
#include <algorithm>

#include "core/log.h"
#include "server/api_impl.h"

namespace noreboot::server {

bool id_ok(std::string_view s, std::string_view prefix, std::size_t hex_len) {
  return s.starts_with(prefix) && is_lower_hex(s.substr(prefix.size()), hex_len);
}

HttpResponse bad_request(const std::string& msg) { return error_response({400, "invalid_input", msg}); }
HttpResponse not_found_response(const std::string& msg) { return error_response({404, "not_found", msg}); }

void Api::Impl::audit(const TokenRecord& actor, const std::string& action, const json& detail) {
  auto st = store.add_audit({now(), actor.id + " (" + actor.name + ")", action,
                             detail.dump(-1, ' ', false, json::error_handler_t::replace)});
  if (!st) log::error("audit log write failed for {}: {}", action, st.error().message());
}

}  // namespace noreboot::server
