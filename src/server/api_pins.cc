// Admin endpoints for pins: a group held to a bundle, or kept from every offer until a date
// (GET/POST /v1/pins, DELETE /v1/pins/{group}). The decision that honours them is rollout.cc.
#include "server/api_impl.h"
#include "server/body_fields.h"

namespace noreboot::server {

HttpResponse Api::Impl::pins_get(const RouteCall&) {
  NR_TRY_RESP(auto pins, store.list_pins());
  json a = json::array();
  for (const auto& p : pins) a.push_back({{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
  return json_response(200, {{"pins", a}});
}

// {"group": NAME, "bundle_sha256": SHA or null, "until": UNIX or null}; one of the last two.
HttpResponse Api::Impl::pins_post(const RouteCall& call) {
  using Need = BodyFields::Need;
  NR_TRY_RESP(auto body, BodyFields::parse(call.req.body));
  NR_TRY_RESP(auto group, body.string("group", Need::required, "required, 1-64 characters of A-Z a-z 0-9 . _ -",
                                      64, api::is_name));
  NR_TRY_RESP(auto sha, body.string("bundle_sha256", Need::optional, "must be 64 lowercase hex characters", 64,
                                    api::is_sha256_hex));
  PinRecord p;
  p.group = *group;
  if (sha) {
    p.bundle_sha256 = *sha;
    NR_TRY_RESP(auto b, store.get_bundle(p.bundle_sha256));
    if (!b) return not_found_response("bundle " + p.bundle_sha256 + " is not published");
  }
  NR_TRY_RESP(auto until, body.integer("until", Need::optional, "must be a Unix time in seconds", 0));
  if (until) p.until = *until;
  if (p.bundle_sha256.empty() && p.until == 0) return bad_request("give bundle_sha256 or until (or both)");
  NR_TRY_RESP_STATUS(store.put_pin(p));
  audit(*call.actor, "pin.set", {{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
  changed();
  return json_response(201, {{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
}

HttpResponse Api::Impl::pin_delete(const RouteCall& call) {
  const std::string& group = call.capture("group");
  if (!api::is_name(group)) return bad_request("group '" + group.substr(0, 64) + "' is not a valid name");
  NR_TRY_RESP(auto gone, store.delete_pin(group));
  if (!gone) return not_found_response("no pin for group " + group);
  audit(*call.actor, "pin.delete", {{"group", group}});
  changed();
  return json_response(200, {{"deleted", group}});
}

}  // namespace noreboot::server
