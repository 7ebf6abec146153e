// Admin endpoints for rollouts: list and create (GET/POST /v1/rollouts), one rollout's status
// (GET /v1/rollouts/{id}) and its manual steps (POST /v1/rollouts/{id}/promote|halt|resume,
// also reached from the dashboard's buttons). What a rollout does on its own, stage by stage,
// is rollout.cc; the ticker that drives it is api.cc.
#include <algorithm>

#include "server/api_impl.h"
#include "server/body_fields.h"

namespace noreboot::server {

Result<json> Api::Impl::rollout_to_json(const RolloutRecord& r) {
  json stages = json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"percent", s.percent}, {"soak_seconds", s.soak_seconds}, {"failure_budget", s.failure_budget}});
  NR_TRY(auto counts, rollout_counts(r));
  std::int64_t targeted = 0, in_stage = 0;
  std::optional<BundleRecord> b;  // a bundle rollout's bundle
  json kernels = json::array();   // a fix rollout's: one per bundle
  for (const auto& sha : r.all_bundles()) {
    NR_TRY(auto got, store.get_bundle(sha));
    if (!got) continue;
    if (r.fix_id.empty()) b = got;
    HostFilter f;
    f.build_id = got->kernel_build_id;
    f.limit = 1000000;
    NR_TRY(auto hosts, store.list_hosts(f));
    int stage = std::clamp(r.current_stage, 0, static_cast<int>(r.stages.size()) - 1);
    double percent = r.state == RolloutState::completed ? r.stages.back().percent : r.stages[stage].percent;
    std::int64_t here = 0;
    for (const auto& h : hosts) {
      if (!rollout_targets(r, h)) continue;
      ++targeted;
      ++here;
      if (placement_bucket(r.id, h.id) < percent) ++in_stage;
    }
    if (!r.fix_id.empty())
      kernels.push_back({{"release", got->kernel_release}, {"build_id", got->kernel_build_id}, {"bundle_sha256", sha},
                         {"patch_name", got->patch_name}, {"sequence", got->sequence}, {"targeted", here}});
  }
  json out = json{{"id", r.id}, {"bundle_sha256", r.bundle_sha256},
              {"patch_name", b ? b->patch_name : ""}, {"sequence", b ? b->sequence : 0},
              {"kernel_build_id", b ? b->kernel_build_id : ""}, {"groups", r.groups}, {"tags", r.tags},
              {"stages", stages}, {"window", r.window ? json(api::format_window(*r.window)) : json(nullptr)},
              {"state", rollout_state_name(r.state)}, {"current_stage", r.current_stage},
              {"stage_started_at", r.stage_started_at}, {"created_at", r.created_at},
              {"halt_reason", r.halt_reason}, {"failure_baseline", r.failure_baseline},
              {"counts", {{"targeted", targeted}, {"in_stage", in_stage}, {"offered", counts.offered},
                          {"applied", counts.applied}, {"failed", counts.failed}}}};
  if (!r.fix_id.empty()) {
    out["fix"] = r.fix_id;
    out["kernels"] = kernels;
  }
  return out;
}

HttpResponse Api::Impl::rollouts_get(const RouteCall&) {
  NR_TRY_RESP(auto list, store.list_rollouts());
  json a = json::array();
  for (const auto& r : list) {
    NR_TRY_RESP(auto j, rollout_to_json(r));
    a.push_back(j);
  }
  return json_response(200, {{"rollouts", a}});
}

HttpResponse Api::Impl::rollouts_post(const RouteCall& call) {
  auto body = api::parse_rollout_create(call.req.body);
  if (!body) return error_response(fail_from(body.error()));
  for (const auto& g : body->groups)
    if (!api::is_name(g)) return bad_request("groups: '" + g.substr(0, 64) + "' is not a valid name");
  for (const auto& g : body->tags)
    if (!api::is_name(g)) return bad_request("tags: '" + g.substr(0, 64) + "' is not a valid name");
  RolloutRecord r;
  if (!body->fix.empty()) {
    // A fix rollout: the bundles its records name, one per kernel the fix was built for.
    NR_TRY_RESP(auto rows, store.fix_kernels(body->fix));
    if (rows.empty()) return not_found_response("no fix record names fix " + body->fix + " (noreboot-admin publish DIR)");
    for (const auto& k : rows) {
      if (k.bundle_sha256.empty()) continue;
      NR_TRY_RESP(auto b, store.get_bundle(k.bundle_sha256));
      if (!b) return not_found_response("fix " + body->fix + ": bundle " + k.bundle_sha256 + " is not published");
      if (b->blocked)
        return error_response({409, "conflict", "fix " + body->fix + ": bundle " + k.bundle_sha256 + " for " +
                                                    k.release + " is blocked: " + b->blocked_reason});
      r.bundles.push_back(k.bundle_sha256);
    }
    if (r.bundles.empty())
      return error_response({409, "conflict", "fix " + body->fix + " has no bundle for any kernel (its records name "
                                               "only kernels it was not built for)"});
    r.fix_id = body->fix;
  } else {
    NR_TRY_RESP(auto b, store.get_bundle(body->bundle_sha256));
    if (!b) return not_found_response("bundle " + body->bundle_sha256 + " is not published (noreboot-admin publish FILE.nrp)");
    if (b->blocked) return error_response({409, "conflict", "bundle is blocked: " + b->blocked_reason});
    r.bundle_sha256 = body->bundle_sha256;
  }
  r.id = "r_" + random_hex(8);
  r.groups = body->groups;
  r.tags = body->tags;
  r.stages = body->stages;
  r.window = body->window;
  r.created_at = r.stage_started_at = now();
  if (body->await_approval) r.state = RolloutState::awaiting_approval;  // api_approve.cc starts it
  NR_TRY_RESP_STATUS(store.create_rollout(r));
  json detail = json::parse(api::to_json(*body));
  detail["id"] = r.id;
  audit(*call.actor, "rollout.create", detail);
  changed();
  NR_TRY_RESP(auto j, rollout_to_json(r));
  return json_response(201, j);
}

HttpResponse Api::Impl::rollout_get(const RouteCall& call) {
  const std::string& id = call.capture("id");
  if (!id_ok(id, "r_", 16)) return bad_request("rollout id '" + id.substr(0, 64) + "' must look like r_ + 16 hex");
  NR_TRY_RESP(auto r, store.get_rollout(id));
  if (!r) return not_found_response("no rollout " + id);
  NR_TRY_RESP(auto j, rollout_to_json(*r));
  return json_response(200, j);
}

HttpResponse Api::Impl::rollout_action(const RouteCall& call, const std::string& action) {
  const std::string& id = call.capture("id");
  if (!id_ok(id, "r_", 16)) return bad_request("rollout id '" + id.substr(0, 64) + "' must look like r_ + 16 hex");
  NR_TRY_RESP(auto r, store.get_rollout(id));
  if (!r) return not_found_response("no rollout " + id);
  if (action == "approve") return approve_rollout_request(*r, *call.actor);  // api_approve.cc
  std::string reason;
  if (!call.req.body.empty()) {  // {"reason": "..."} (optional)
    NR_TRY_RESP(auto body, BodyFields::parse(call.req.body));
    NR_TRY_RESP(auto given, body.string("reason", BodyFields::Need::optional_not_null, "must be a string"));
    if (given) reason = given->substr(0, 512);
  }
  std::int64_t t = now();
  Result<RolloutRecord> next = Error(Errc::not_found, "unknown rollout action '" + action.substr(0, 32) +
                                                          "' (promote, halt, resume, approve)");
  if (action == "promote") next = promote_rollout(*r, t);
  else if (action == "halt") next = halt_rollout(*r, reason);
  else if (action == "resume") {
    NR_TRY_RESP(auto counts, rollout_counts(*r));
    next = resume_rollout(*r, t, counts.failed);
  }
  if (!next) return error_response(fail_from(next.error()));
  // A halt blocks the rollout's bundles and a resume unblocks them in the same transaction
  // as the state change (a fix rollout: all of its bundles together).
  bool blocks = action == "halt" || action == "resume";
  NR_TRY_RESP(auto wrote, blocks ? store.update_rollout_and_block(*r, *next, r->all_bundles(), action == "halt")
                                 : store.update_rollout(*r, *next));
  if (!wrote) return error_response({409, "conflict", "rollout changed meanwhile; read its status and retry"});
  audit(*call.actor, "rollout." + action, {{"id", r->id}, {"stage", next->current_stage}, {"reason", reason}});
  changed();
  NR_TRY_RESP(auto j, rollout_to_json(*next));
  return json_response(200, j);
}

}  // namespace noreboot::server
