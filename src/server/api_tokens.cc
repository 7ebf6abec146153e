// Admin endpoints for tokens: enrollment tokens (hosts join with one) and admin tokens (the
// admin and read roles), each listed, created and revoked under /v1/tokens/{enrollment|admin}.
// The secret is shown once, in the create answer; the store keeps only its SHA-256.
#include "server/api_impl.h"
#include "server/body_fields.h"
#include "server/token_prefixes.h"

namespace noreboot::server {
namespace {

// Without max_uses a token enrolls at most this many hosts: a leaked token is not a licence
// to enroll without end. Ask for more explicitly (0: unlimited).
constexpr std::int64_t kDefaultEnrollmentUses = 100;

const std::string kNameRule = "1-64 characters of A-Z a-z 0-9 . _ -";

}  // namespace

HttpResponse Api::Impl::tokens_get(const RouteCall&, const std::string& kind) {
  NR_TRY_RESP(auto list, store.list_tokens(kind));
  json a = json::array();
  for (const auto& tk : list)
    a.push_back({{"id", tk.id}, {"name", tk.name}, {"role", tk.role}, {"group", tk.group}, {"tags", tk.tags},
                 {"expires_at", tk.expires_at}, {"max_uses", tk.max_uses}, {"uses", tk.uses},
                 {"revoked", tk.revoked}, {"created_at", tk.created_at}});
  return json_response(200, {{"tokens", a}});
}

// Enrollment: {"name", "group", "tags", "ttl_seconds", "max_uses"}; admin: {"name", "role"}.
HttpResponse Api::Impl::tokens_post(const RouteCall& call, const std::string& kind) {
  using Need = BodyFields::Need;
  NR_TRY_RESP(auto body, BodyFields::parse(call.req.body));
  std::int64_t t = now();
  TokenRecord tk;
  tk.id = "t_" + random_hex(8);
  tk.kind = kind;
  tk.created_at = t;
  NR_TRY_RESP(auto name, body.string("name", Need::optional, "must be a string of at most 128 bytes", 128));
  tk.name = name.value_or("");
  std::string secret;
  if (kind == "enrollment") {
    NR_TRY_RESP(auto group, body.string("group", Need::optional, kNameRule, 64,
                                        [](std::string_view g) { return g.empty() || api::is_name(g); }));
    tk.group = group.value_or("");
    NR_TRY_RESP(auto tags, body.strings("tags", Need::optional, "must be an array of names", 64,
                                        "each tag is " + kNameRule, api::is_name));
    if (tags) tk.tags = std::move(*tags);
    NR_TRY_RESP(auto ttl, body.integer("ttl_seconds", Need::optional_not_null, "must be 1..31622400", 1, 366LL * 86400));
    tk.expires_at = t + ttl.value_or(86400);
    NR_TRY_RESP(auto uses, body.integer("max_uses", Need::optional,
                                        "must be a non-negative integer (default " +
                                            std::to_string(kDefaultEnrollmentUses) + "; 0: unlimited)",
                                        0));
    tk.max_uses = uses.value_or(kDefaultEnrollmentUses);
    tk.role = "";
    secret = new_secret(kEnrollmentTokenPrefix);
  } else {
    NR_TRY_RESP(auto role, body.string("role", Need::optional, "must be \"admin\" or \"read\"", 5,
                                       [](std::string_view r) { return r == "admin" || r == "read"; }));
    if (!role) return bad_request("role: must be \"admin\" or \"read\"");
    tk.role = *role;
    secret = new_secret(kAdminTokenPrefix);
  }
  NR_TRY_RESP_STATUS(store.create_token(tk, sha256_hex(secret)));
  audit(*call.actor, "token." + kind + ".create", {{"id", tk.id}, {"name", tk.name}, {"group", tk.group}, {"role", tk.role}});
  return json_response(201, {{"id", tk.id}, {"token", secret}, {"expires_at", tk.expires_at},
                             {"group", tk.group}, {"tags", tk.tags}, {"role", tk.role}});
}

HttpResponse Api::Impl::token_delete(const RouteCall& call, const std::string& kind) {
  const std::string& id = call.capture("id");
  if (!id_ok(id, "t_", 16)) return bad_request("token id '" + id.substr(0, 64) + "' must look like t_ + 16 hex");
  if (kind == "admin") {
    NR_TRY_RESP(auto outcome, store.revoke_admin_token(id, now()));
    if (outcome == Store::AdminRevoke::not_found) return not_found_response("no admin token " + id);
    if (outcome == Store::AdminRevoke::last_admin)
      return error_response({409, "last_admin_token",
                             "token " + id + " is the last usable admin-role token: create another first "
                             "(noreboot-admin token create-admin --role admin), then revoke this one"});
  } else {
    NR_TRY_RESP(auto gone, store.revoke_token(id, kind));
    if (!gone) return not_found_response("no " + kind + " token " + id);
  }
  audit(*call.actor, "token." + kind + ".revoke", {{"id", id}});
  return json_response(200, {{"revoked", id}});
}

}  // namespace noreboot::server
