// Admin endpoints for bundles: GET /v1/bundles (the list) and POST /v1/bundles (publish).
// Downloads (GET /v1/bundles/{sha256}) are the agents' and live in api.cc.
#include "core/log.h"
#include "server/api_impl.h"

namespace noreboot::server {

HttpResponse Api::Impl::bundles_get(const RouteCall&) {
  NR_TRY_RESP(auto list, store.list_bundles());
  json a = json::array();
  for (const auto& b : list) a.push_back(bundle_to_json(b));
  return json_response(200, {{"bundles", a}});
}

HttpResponse Api::Impl::bundles_post(const RouteCall& call) {
  const HttpRequest& req = call.req;
  const TokenRecord& actor = *call.actor;
  if (req.body.empty()) return bad_request("body: empty; send the .nrp file as application/octet-stream");
  auto info = verifier(req.body);
  if (!info) {
    audit(actor, "bundle.publish_refused", {{"reason", info.error().message()}});
    return error_response({422, "refused", "bundle refused: " + info.error().message()});
  }
  BundleRecord b;
  b.sha256 = sha256_hex(req.body);
  b.size = static_cast<std::int64_t>(req.body.size());
  b.patch_name = info->patch_name;
  b.sequence = info->sequence;
  b.kernel_release = info->kernel.release;
  b.kernel_build_id = info->kernel.build_id;
  b.arch = info->kernel.arch;
  b.created_at = now();
  b.fix_ids = info->fix_ids;
  NR_TRY_RESP(auto created, store.put_bundle(b, req.body));
  NR_TRY_RESP(auto stored, store.get_bundle(b.sha256));
  if (created) {
    metrics.published++;
    audit(actor, "bundle.publish", {{"sha256", b.sha256}, {"patch_name", b.patch_name}, {"sequence", b.sequence},
                                    {"kernel", b.kernel_release}, {"signer", info->signer_key_id}});
    log::info("published bundle {} ({} seq {}) for {}", b.sha256, b.patch_name, b.sequence, b.kernel_release);
    changed();
  }
  return json_response(created ? 201 : 200, bundle_to_json(stored ? *stored : b));
}

}  // namespace noreboot::server
