// Approving a rollout: the operator's "go" for a fix published without one.
//
// Problem: a feed that follows Debian (noreboot-feed with approve = "manual") builds, tests and
// publishes a fix on its own, but some operators want a person to say when it reaches hosts.
// The fix must be visible (record, bundles, exposure) and ready to go, yet offer nothing.
// Approach: the rollout is created with "await_approval": true, in state awaiting_approval,
// which the rollout engine treats like a halted rollout for offers and never advances
// (rollout.cc). Approving moves it to running at its first stage, the soak counting from the
// approval, with the same compare-and-set write as promote/halt/resume: two operators
// approving at once (or one twice) get one approval and one 409. The audit log records the
// approver's token (its id and name are the entry's actor) and the fix.
// Two routes: POST /v1/fixes/{id}/approve (what `noreboot-admin fix approve ID` calls: the
// operator knows the CVE, not the rollout id) approves every rollout of the fix that awaits
// approval; POST /v1/rollouts/{id}/approve approves one rollout (the dashboard's button).
#include <algorithm>
#include <iterator>

#include "core/log.h"
#include "core/manifest.h"
#include "server/api_impl.h"

namespace noreboot::server {
namespace {

// "by t_... (name) at 2026-12-03 12:00 UTC" from the rollout's approval in the audit log, or ""
// (the log is the only place the approver is kept).
std::string approved_by(Store& store, const std::string& rollout_id) {
  auto entries = store.audit_mentioning("rollout.approve", rollout_id, 1);
  if (!entries || entries->empty()) return "";
  return " by " + entries->back().actor + " at " + readable_utc(entries->back().time);
}

}  // namespace

HttpResponse Api::Impl::approve_rollout_request(const RolloutRecord& r, const TokenRecord& actor) {
  auto next = approve_rollout(r, now());
  if (!next) {
    std::string who = r.state == RolloutState::running || r.state == RolloutState::completed
                          ? approved_by(store, r.id) : std::string();
    return error_response({409, "conflict", next.error().message() + (who.empty() ? "" : "; approved" + who)});
  }
  NR_TRY_RESP(auto wrote, store.update_rollout(r, *next));
  if (!wrote)
    return error_response({409, "conflict", "rollout " + r.id + " changed meanwhile (approved or halted by someone "
                                            "else?); read its status (noreboot-admin rollout status " + r.id + ")"});
  audit(actor, "rollout.approve", {{"id", r.id}, {"fix", r.fix_id}, {"approved_by", actor.name}, {"stage", 0}});
  log::info("rollout {}{} approved by {} ({})", r.id, r.fix_id.empty() ? "" : " of fix " + r.fix_id, actor.id,
            actor.name);
  changed();
  NR_TRY_RESP(auto j, rollout_to_json(*next));
  return json_response(200, j);
}

HttpResponse Api::Impl::approve_fix(const HttpRequest& req, const std::string& fix_id, const TokenRecord& actor) {
  if (req.method != "POST") return error_response({405, "method_not_allowed", "allowed here: POST"});
  if (!valid_fix_id(fix_id))
    return error_response({400, "invalid_input", "fix id '" + fix_id.substr(0, 64) +
                                                     "' is not valid: 1-128 of A-Z a-z 0-9 . _ + -"});
  NR_TRY_RESP(auto all, store.list_rollouts());
  std::vector<RolloutRecord> mine;
  std::copy_if(all.begin(), all.end(), std::back_inserter(mine), [&](const RolloutRecord& r) { return r.fix_id == fix_id; });
  if (mine.empty())
    return error_response({404, "not_found", "fix " + fix_id + " has no rollout to approve (approval starts a rollout "
                                             "created awaiting approval, e.g. by noreboot-feed with approve = \"manual\"; "
                                             "start one yourself with noreboot-admin rollout create --fix " + fix_id + ")"});
  json approved = json::array();
  for (const auto& r : mine) {
    if (r.state != RolloutState::awaiting_approval) continue;
    HttpResponse one = approve_rollout_request(r, actor);
    if (one.status != 200) return one;  // a concurrent approval: the caller reads the state again
    approved.push_back(json::parse(one.body));
  }
  if (approved.empty()) {
    // Name the rollout an operator approved, if one was (a fix may also have older rollouts
    // started without approval); else the newest.
    const RolloutRecord* last = &mine.back();
    std::string who;
    for (const auto& r : mine)
      if (auto by = approved_by(store, r.id); !by.empty()) {
        last = &r;
        who = by;
      }
    return error_response({409, "conflict", "fix " + fix_id + " is already approved: no rollout of it awaits approval "
                                            "(rollout " + last->id + " is " + std::string(rollout_state_name(last->state)) +
                                            (who.empty() ? "" : ", approved" + who) + ")"});
  }
  return json_response(200, {{"fix", fix_id}, {"rollouts", approved}});
}

}  // namespace noreboot::server
