// JSON (de)serialisation of the API v1 wire types. See api_types.h for the approach: strict,
// bounded parsing that names the offending field; nlohmann-json exceptions never leave here.
#include "core/api_types.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/fix_record.h"

namespace noreboot::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxString = 4096;       // any free-text field
constexpr std::size_t kMaxListItems = 256;     // tags, errors, warnings, blocked tasks
constexpr std::size_t kMaxStackString = 16384; // a blocked task's stack

Error bad(std::string_view field, std::string_view what) {
  return Error(Errc::invalid_input, std::string(field) + ": " + std::string(what));
}

Result<json> parse_object(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Errc::invalid_input, "body: not valid JSON");
  if (!j.is_object()) return Error(Errc::invalid_input, "body: must be a JSON object");
  return j;
}

// Field readers. `path` is the dotted name used in messages.
Result<std::string> get_string(const json& o, const char* key, std::string_view path,
                               bool required, std::size_t max = kMaxString) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return bad(path, "required string is missing");
    return std::string();
  }
  if (!it->is_string()) return bad(path, "must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) return bad(path, "longer than " + std::to_string(max) + " bytes");
  return s;
}

Result<std::uint64_t> get_u64(const json& o, const char* key, std::string_view path,
                              bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return bad(path, "required number is missing");
    return std::uint64_t{0};
  }
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0))
    return bad(path, "must be a non-negative integer");
  return it->get<std::uint64_t>();
}

Result<std::int64_t> get_i64(const json& o, const char* key, std::string_view path, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return bad(path, "required integer is missing");
    return std::int64_t{0};
  }
  if (!it->is_number_integer()) return bad(path, "must be an integer");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX)
    return bad(path, "out of range");
  return it->get<std::int64_t>();
}

Result<std::vector<std::string>> get_string_list(const json& o, const char* key,
                                                 std::string_view path, bool names_only,
                                                 std::size_t max_item = kMaxString) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(path, "must be an array of strings");
  if (it->size() > kMaxListItems)
    return bad(path, "more than " + std::to_string(kMaxListItems) + " items");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    std::string p = std::string(path) + "[" + std::to_string(i) + "]";
    if (!e.is_string()) return bad(p, "must be a string");
    const auto& s = e.get_ref<const std::string&>();
    if (s.size() > max_item) return bad(p, "too long");
    if (names_only && !is_name(s)) return bad(p, "must be 1-64 characters of A-Z a-z 0-9 . _ -");
    out.push_back(s);
  }
  return out;
}

json kernel_json(const KernelId& k) {
  return {{"release", k.release}, {"version", k.version}, {"build_id", k.build_id}, {"arch", k.arch}};
}

Result<KernelId> parse_kernel(const json& o, std::string_view path) {
  auto it = o.find("kernel");
  if (it == o.end() || !it->is_object()) return bad(path, "required object is missing");
  std::string p(path);
  KernelId k;
  NR_TRY(k.release, get_string(*it, "release", p + ".release", true, 256));
  NR_TRY(k.version, get_string(*it, "version", p + ".version", false, 1024));
  NR_TRY(k.build_id, get_string(*it, "build_id", p + ".build_id", true, 128));
  NR_TRY(k.arch, get_string(*it, "arch", p + ".arch", true, 32));
  if (k.release.empty()) return bad(p + ".release", "must not be empty");
  if (!is_build_id_hex(k.build_id))
    return bad(p + ".build_id", "must be lowercase hex (2-128 characters, even length)");
  if (!is_name(k.arch)) return bad(p + ".arch", "must be a short name such as x86_64");
  return k;
}

json applied_json(const std::optional<AppliedPatch>& a) {
  if (!a) return nullptr;
  return {{"name", a->name}, {"sequence", a->sequence}, {"bundle_sha256", a->bundle_sha256}};
}

Result<std::optional<AppliedPatch>> parse_applied(const json& o, std::string_view path) {
  auto it = o.find("applied");
  if (it == o.end() || it->is_null()) return std::optional<AppliedPatch>();
  if (!it->is_object()) return bad(path, "must be an object or null");
  std::string p(path);
  AppliedPatch a;
  NR_TRY(a.name, get_string(*it, "name", p + ".name", true, 64));
  NR_TRY(a.sequence, get_u64(*it, "sequence", p + ".sequence", true));
  NR_TRY(a.bundle_sha256, get_string(*it, "bundle_sha256", p + ".bundle_sha256", true, 64));
  if (!is_name(a.name)) return bad(p + ".name", "must be 1-64 characters of A-Z a-z 0-9 . _ -");
  if (!is_sha256_hex(a.bundle_sha256)) return bad(p + ".bundle_sha256", "must be 64 lowercase hex characters");
  return std::optional<AppliedPatch>(std::move(a));
}

Result<AgentState> parse_state_field(const json& o, std::string_view path) {
  NR_TRY(auto s, get_string(o, "state", path, true, 32));
  auto st = parse_agent_state(s);
  if (!st) return bad(path, st.error().message());
  return *st;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

int parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4})
    if (s[i] < '0' || s[i] > '9') return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return -1;
  return h * 60 + m;
}

}  // namespace

// ---- validators -----------------------------------------------------------------------------

bool is_sha256_hex(std::string_view s) { return is_lower_hex(s, 64); }

bool is_build_id_hex(std::string_view s) {
  return s.size() >= 2 && s.size() <= 128 && s.size() % 2 == 0 && is_lower_hex(s);
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

Result<MaintenanceWindow> parse_window(std::string_view s) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos)
    return Error(Errc::invalid_input, "window: expected \"HH:MM-HH:MM\" (UTC), e.g. \"22:00-04:00\"");
  int a = parse_hhmm(s.substr(0, dash));
  int b = parse_hhmm(s.substr(dash + 1));
  if (a < 0 || b < 0 || a == b)
    return Error(Errc::invalid_input,
                 "window: expected \"HH:MM-HH:MM\" (UTC) with different start and end, got \"" +
                     std::string(s.substr(0, 32)) + "\"");
  return MaintenanceWindow{a, b};
}

std::string format_window(const MaintenanceWindow& w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", w.start_minute / 60, w.start_minute % 60,
                w.end_minute / 60, w.end_minute % 60);
  return buf;
}

std::string_view agent_state_name(AgentState s) {
  switch (s) {
    case AgentState::idle: return "idle";
    case AgentState::downloading: return "downloading";
    case AgentState::applying: return "applying";
    case AgentState::applied: return "applied";
    case AgentState::failed: return "failed";
    case AgentState::reverted: return "reverted";
  }
  return "idle";
}

Result<AgentState> parse_agent_state(std::string_view s) {
  for (auto st : {AgentState::idle, AgentState::downloading, AgentState::applying,
                  AgentState::applied, AgentState::failed, AgentState::reverted})
    if (agent_state_name(st) == s) return st;
  return Error(Errc::invalid_input,
               "unknown state (expected idle, downloading, applying, applied, failed or reverted)");
}

// ---- to_json ----------------------------------------------------------------------------------

std::string to_json(const EnrollRequest& v) {
  return dump({{"token", v.token}, {"hostname", v.hostname}, {"kernel", kernel_json(v.kernel)},
               {"tags", v.tags}});
}

std::string to_json(const EnrollResponse& v) {
  return dump({{"host_id", v.host_id}, {"credential", v.credential}, {"group", v.group},
               {"tags", v.tags}});
}

std::string to_json(const CheckinRequest& v) {
  return dump({{"kernel", kernel_json(v.kernel)}, {"applied", applied_json(v.applied)},
               {"state", agent_state_name(v.state)}, {"agent_version", v.agent_version}});
}

std::string to_json(const CheckinResponse& v) {
  json j = {{"host_id", v.host_id}, {"next_checkin_seconds", v.next_checkin_seconds}};
  if (v.offer) {
    const Offer& o = *v.offer;
    j["offer"] = {{"bundle_id", o.bundle_id}, {"url", o.url}, {"sha256", o.sha256},
                  {"size", o.size}, {"sequence", o.sequence}, {"patch_name", o.patch_name},
                  {"rollout_id", o.rollout_id}};
  } else {
    j["offer"] = nullptr;
  }
  return dump(j);
}

std::string to_json(const ReportRequest& v) {
  json tasks = json::array();
  for (const auto& t : v.blocked_tasks) tasks.push_back({{"pid", t.pid}, {"comm", t.comm}, {"stack", t.stack}});
  return dump({{"host_id", v.host_id}, {"state", agent_state_name(v.state)},
               {"kernel", kernel_json(v.kernel)}, {"applied", applied_json(v.applied)},
               {"bundle_sha256", v.bundle_sha256}, {"errors", v.errors},
               {"blocked_tasks", tasks}, {"kernel_warnings", v.kernel_warnings}});
}

std::string to_json(const ReportResponse& v) { return dump({{"accepted", v.accepted}}); }

std::string to_json(const ApiError& v) {
  return dump({{"error", {{"code", v.code}, {"message", v.message}}}});
}

std::string to_json(const RolloutCreate& v) {
  json stages = json::array();
  for (const auto& s : v.stages)
    stages.push_back({{"percent", s.percent}, {"soak_seconds", s.soak_seconds},
                      {"failure_budget", s.failure_budget}});
  json j = {{"groups", v.groups}, {"tags", v.tags}, {"stages", stages}};
  if (v.fix.empty()) j["bundle_sha256"] = v.bundle_sha256;
  else j["fix"] = v.fix;
  j["window"] = v.window ? json(format_window(*v.window)) : json(nullptr);
  if (v.await_approval) j["await_approval"] = true;
  return dump(j);
}

// ---- parse ------------------------------------------------------------------------------------

Result<EnrollRequest> parse_enroll_request(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  EnrollRequest v;
  NR_TRY(v.token, get_string(j, "token", "token", true, 128));
  NR_TRY(v.hostname, get_string(j, "hostname", "hostname", true, 253));
  if (v.hostname.empty()) return bad("hostname", "must not be empty");
  NR_TRY(v.kernel, parse_kernel(j, "kernel"));
  NR_TRY(v.tags, get_string_list(j, "tags", "tags", true));
  return v;
}

Result<EnrollResponse> parse_enroll_response(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  EnrollResponse v;
  NR_TRY(v.host_id, get_string(j, "host_id", "host_id", true, 64));
  NR_TRY(v.credential, get_string(j, "credential", "credential", true, 256));
  NR_TRY(v.group, get_string(j, "group", "group", false, 64));
  NR_TRY(v.tags, get_string_list(j, "tags", "tags", true));
  return v;
}

Result<CheckinRequest> parse_checkin_request(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  CheckinRequest v;
  NR_TRY(v.kernel, parse_kernel(j, "kernel"));
  NR_TRY(v.applied, parse_applied(j, "applied"));
  NR_TRY(v.state, parse_state_field(j, "state"));
  NR_TRY(v.agent_version, get_string(j, "agent_version", "agent_version", false, 64));
  return v;
}

Result<CheckinResponse> parse_checkin_response(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  CheckinResponse v;
  NR_TRY(v.host_id, get_string(j, "host_id", "host_id", false, 64));
  NR_TRY(auto next, get_u64(j, "next_checkin_seconds", "next_checkin_seconds", false));
  v.next_checkin_seconds = static_cast<std::uint32_t>(std::min<std::uint64_t>(next, 86400));
  auto it = j.find("offer");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_object()) return bad("offer", "must be an object or null");
    Offer o;
    NR_TRY(o.bundle_id, get_string(*it, "bundle_id", "offer.bundle_id", true, 64));
    NR_TRY(o.url, get_string(*it, "url", "offer.url", true, 1024));
    NR_TRY(o.sha256, get_string(*it, "sha256", "offer.sha256", true, 64));
    NR_TRY(o.size, get_u64(*it, "size", "offer.size", true));
    NR_TRY(o.sequence, get_u64(*it, "sequence", "offer.sequence", true));
    NR_TRY(o.patch_name, get_string(*it, "patch_name", "offer.patch_name", false, 64));
    NR_TRY(o.rollout_id, get_string(*it, "rollout_id", "offer.rollout_id", false, 64));
    if (!is_sha256_hex(o.sha256)) return bad("offer.sha256", "must be 64 lowercase hex characters");
    v.offer = std::move(o);
  }
  return v;
}

Result<ReportRequest> parse_report_request(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  ReportRequest v;
  NR_TRY(v.host_id, get_string(j, "host_id", "host_id", true, 64));
  NR_TRY(v.state, parse_state_field(j, "state"));
  NR_TRY(v.kernel, parse_kernel(j, "kernel"));
  NR_TRY(v.applied, parse_applied(j, "applied"));
  NR_TRY(v.bundle_sha256, get_string(j, "bundle_sha256", "bundle_sha256", false, 64));
  if (!v.bundle_sha256.empty() && !is_sha256_hex(v.bundle_sha256))
    return bad("bundle_sha256", "must be 64 lowercase hex characters or empty");
  NR_TRY(v.errors, get_string_list(j, "errors", "errors", false));
  NR_TRY(v.kernel_warnings, get_string_list(j, "kernel_warnings", "kernel_warnings", false));
  auto it = j.find("blocked_tasks");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_array()) return bad("blocked_tasks", "must be an array");
    if (it->size() > kMaxListItems) return bad("blocked_tasks", "too many items");
    for (std::size_t i = 0; i < it->size(); ++i) {
      std::string p = "blocked_tasks[" + std::to_string(i) + "]";
      const auto& e = (*it)[i];
      if (!e.is_object()) return bad(p, "must be an object");
      BlockedTask t;
      NR_TRY(t.pid, get_i64(e, "pid", p + ".pid", true));
      NR_TRY(t.comm, get_string(e, "comm", p + ".comm", false, 64));
      NR_TRY(t.stack, get_string(e, "stack", p + ".stack", false, kMaxStackString));
      v.blocked_tasks.push_back(std::move(t));
    }
  }
  return v;
}

Result<ReportResponse> parse_report_response(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  ReportResponse v;
  auto it = j.find("accepted");
  if (it == j.end() || !it->is_boolean()) return bad("accepted", "required boolean is missing");
  v.accepted = it->get<bool>();
  return v;
}

Result<ApiError> parse_api_error(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  auto it = j.find("error");
  if (it == j.end() || !it->is_object()) return bad("error", "required object is missing");
  ApiError e;
  NR_TRY(e.code, get_string(*it, "code", "error.code", true, 64));
  NR_TRY(e.message, get_string(*it, "message", "error.message", true));
  return e;
}

Result<RolloutCreate> parse_rollout_create(std::string_view body) {
  NR_TRY(auto j, parse_object(body));
  RolloutCreate v;
  if (j.contains("fix")) {
    if (j.contains("bundle_sha256")) return bad("fix", "give bundle_sha256 (one kernel) or fix (every kernel of a fix), not both");
    NR_TRY(v.fix, get_string(j, "fix", "fix", true, 128));
    if (!noreboot::valid_fix_id(v.fix)) return bad("fix", "must be a fix id: 1-128 of A-Z a-z 0-9 . _ + -");
  } else {
    NR_TRY(v.bundle_sha256, get_string(j, "bundle_sha256", "bundle_sha256", true, 64));
    if (!is_sha256_hex(v.bundle_sha256)) return bad("bundle_sha256", "must be 64 lowercase hex characters");
  }
  NR_TRY(v.groups, get_string_list(j, "groups", "groups", true));
  NR_TRY(v.tags, get_string_list(j, "tags", "tags", true));
  auto it = j.find("stages");
  if (it == j.end() || !it->is_array() || it->empty())
    return bad("stages", "required: a non-empty array of {percent, soak_seconds, failure_budget}");
  if (it->size() > 32) return bad("stages", "at most 32 stages");
  double last = 0;
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string p = "stages[" + std::to_string(i) + "]";
    const auto& e = (*it)[i];
    if (!e.is_object()) return bad(p, "must be an object");
    Stage s;
    auto pc = e.find("percent");
    if (pc == e.end() || !pc->is_number()) return bad(p + ".percent", "required number is missing");
    s.percent = pc->get<double>();
    if (!(s.percent > 0 && s.percent <= 100)) return bad(p + ".percent", "must be in (0, 100]");
    if (s.percent < last) return bad(p + ".percent", "stages must not shrink (percent is cumulative)");
    last = s.percent;
    NR_TRY(s.soak_seconds, get_i64(e, "soak_seconds", p + ".soak_seconds", false));
    NR_TRY(s.failure_budget, get_i64(e, "failure_budget", p + ".failure_budget", false));
    if (s.soak_seconds < 0 || s.soak_seconds > 365LL * 86400) return bad(p + ".soak_seconds", "must be 0..31536000");
    if (s.failure_budget < 0) return bad(p + ".failure_budget", "must be >= 0");
    v.stages.push_back(s);
  }
  auto w = j.find("window");
  if (w != j.end() && !w->is_null()) {
    if (!w->is_string()) return bad("window", "must be a string \"HH:MM-HH:MM\" (UTC) or null");
    NR_TRY(auto win, parse_window(w->get<std::string>()));
    v.window = win;
  }
  auto aw = j.find("await_approval");
  if (aw != j.end() && !aw->is_null()) {
    if (!aw->is_boolean()) return bad("await_approval", "must be true or false");
    v.await_approval = aw->get<bool>();
  }
  return v;
}

}  // namespace noreboot::api
