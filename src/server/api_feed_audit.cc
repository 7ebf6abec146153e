// Audit entries written by tools that act on the server: POST /v1/audit.
//
// Problem: noreboot-feed works for an hour between its calls to the server (derive, build,
// test in QEMU) and decides things there (a kernel refused after a failed smoke test, a
// stable update left for per-CVE patches). The server's audit log showed only the publish
// and rollout calls, so an operator reading it could not tell what the feed did or why.
// Approach: an admin-role endpoint appends one entry, with the calling token as its actor
// (the feed's token name, as for every other admin action). The action must start with
// "feed." so a tool can never write an entry that reads like one of the server's own
// ("rollout.approve", "bundle.publish"): the log stays trustworthy about what the server did.
// The detail is a JSON object of at most kMaxDetail bytes. GET /v1/audit?action=PREFIX lists
// the entries whose action starts with PREFIX (GET /v1/audit?action=feed. : what the feed did).
#include <algorithm>

#include "server/api_impl.h"

namespace noreboot::server {
namespace {

constexpr std::size_t kMaxDetail = 16 * 1024;
constexpr const char* kToolPrefix = "feed.";

bool action_ok(const std::string& a) {
  if (a.size() <= std::string(kToolPrefix).size() || a.size() > 64 || a.rfind(kToolPrefix, 0) != 0) return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

HttpResponse Api::Impl::record_tool_audit(const HttpRequest& req, const TokenRecord& actor) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return error_response({400, "invalid_input", "body: must be a JSON object {\"action\": \"feed.STEP\", \"detail\": {...}}"});
  if (!body.contains("action") || !body["action"].is_string() || !action_ok(body["action"].get<std::string>()))
    return error_response({400, "invalid_input",
                           "action: required, \"feed.\" and then 1-59 of a-z 0-9 . _ - (e.g. \"feed.tested\"); the "
                           "server's own actions cannot be written through the API"});
  json detail = json::object();
  if (body.contains("detail") && !body["detail"].is_null()) {
    if (!body["detail"].is_object()) return error_response({400, "invalid_input", "detail: must be a JSON object"});
    detail = body["detail"];
  }
  std::string text = detail.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxDetail)
    return error_response({400, "invalid_input", "detail: " + std::to_string(text.size()) + " bytes, at most " +
                                                     std::to_string(kMaxDetail) + " (keep logs on the tool's side)"});
  AuditEntry e{now(), actor.id + " (" + actor.name + ")", body["action"].get<std::string>(), text};
  NR_TRY_RESP_STATUS(store.add_audit(e));
  return json_response(201, {{"time", e.time}, {"actor", e.actor}, {"action", e.action}, {"detail", detail}});
}

HttpResponse Api::Impl::list_audit_request(const HttpRequest& req) {
  auto it = req.query.find("action");
  std::vector<AuditEntry> entries;
  if (it == req.query.end() || it->second.empty()) {
    NR_TRY_RESP(entries, store.list_audit(200));
  } else {
    if (it->second.size() > 64) return error_response({400, "invalid_input", "action: a prefix of at most 64 bytes"});
    NR_TRY_RESP(entries, store.audit_mentioning(it->second, "", 200));
    std::reverse(entries.begin(), entries.end());  // newest first, like the whole log
  }
  json a = json::array();
  for (const auto& e : entries) {
    json d = json::parse(e.detail, nullptr, false);
    a.push_back({{"time", e.time}, {"actor", e.actor}, {"action", e.action}, {"detail", d.is_discarded() ? json(e.detail) : d}});
  }
  return json_response(200, {{"entries", a}});
}

}  // namespace noreboot::server
