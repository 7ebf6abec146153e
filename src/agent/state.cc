#include "agent/state.h"

#include <unistd.h>

#include <chrono>

#include "agent/fs_util.h"

namespace noreboot::agent {

using nlohmann::json;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
constexpr std::string_view kStepNames[] = {"idle", "downloaded", "verifying", "loading", "transition",
                                           "live", "stable",     "reverting", "failed"};
}

std::string_view step_name(Step s) { return kStepNames[static_cast<int>(s)]; }

std::optional<Step> step_from_name(std::string_view s) {
  for (size_t i = 0; i < std::size(kStepNames); ++i)
    if (kStepNames[i] == s) return static_cast<Step>(i);
  return std::nullopt;
}

const Quarantine* AgentState::quarantine_for(const std::string& sha) const {
  for (const auto& q : quarantined)
    if (q.bundle_sha256 == sha) return &q;
  return nullptr;
}

json to_json(const BlockedTask& t) {
  return {{"pid", t.pid}, {"tgid", t.tgid}, {"comm", t.comm}, {"patch_state", t.patch_state},
          {"stack", t.stack}};
}

json to_json(const AppliedPatch& a) {
  return {{"patch", a.patch_name},          {"bundle_sha256", a.bundle_sha256},
          {"sequence", a.sequence},         {"kernel_release", a.kernel_release},
          {"kernel_build_id", a.kernel_build_id}, {"fixes", a.fixes},
          {"boot_id", a.boot_id},           {"applied_at", a.applied_at}};
}

static AppliedPatch applied_from_json(const json& a) {
  AppliedPatch p;
  p.patch_name = a.at("patch").get<std::string>();
  p.bundle_sha256 = a.at("bundle_sha256").get<std::string>();
  p.sequence = a.at("sequence").get<uint64_t>();
  p.kernel_release = a.value("kernel_release", "");
  p.kernel_build_id = a.value("kernel_build_id", "");
  p.fixes = a.value("fixes", std::vector<std::string>{});
  p.boot_id = a.value("boot_id", "");
  p.applied_at = a.value("applied_at", int64_t{0});
  return p;
}

json to_json(const AgentState& s) {
  json j = json::object();
  j["applied"] = s.applied ? to_json(*s.applied) : json(nullptr);
  j["highest_sequence"] = s.highest_sequence;
  j["highest_sha256"] = s.highest_sha256;
  j["quarantined"] = json::array();
  for (const auto& q : s.quarantined)
    j["quarantined"].push_back({{"bundle_sha256", q.bundle_sha256}, {"patch", q.patch_name},
                                {"reason", q.reason}, {"at", q.at}});
  j["last_checkin"] = s.last_checkin;
  j["last_checkin_result"] = s.last_checkin_result;
  j["last_outcome"] = s.last_outcome;
  j["last_outcome_ok"] = s.last_outcome_ok;
  j["last_blocked"] = json::array();
  for (const auto& t : s.last_blocked) j["last_blocked"].push_back(to_json(t));
  j["kernel_warnings"] = s.kernel_warnings;
  j["startup_report"] = s.startup_report;
  return j;
}

Result<AgentState> state_from_json(const json& j) {
  try {
    AgentState s;
    if (j.contains("applied") && !j["applied"].is_null()) s.applied = applied_from_json(j["applied"]);
    s.highest_sequence = j.value("highest_sequence", std::map<std::string, uint64_t>{});
    s.highest_sha256 = j.value("highest_sha256", std::map<std::string, std::string>{});  // absent before 0.2
    for (const auto& q : j.value("quarantined", json::array()))
      s.quarantined.push_back({q.at("bundle_sha256").get<std::string>(), q.value("patch", ""),
                               q.value("reason", ""), q.value("at", int64_t{0})});
    s.last_checkin = j.value("last_checkin", int64_t{0});
    s.last_checkin_result = j.value("last_checkin_result", "");
    s.last_outcome = j.value("last_outcome", "");
    s.last_outcome_ok = j.value("last_outcome_ok", true);
    for (const auto& t : j.value("last_blocked", json::array()))
      s.last_blocked.push_back({t.value("pid", 0), t.value("tgid", 0), t.value("comm", ""),
                                t.value("patch_state", -1), t.value("stack", "")});
    s.kernel_warnings = j.value("kernel_warnings", std::vector<std::string>{});
    s.startup_report = j.value("startup_report", "");
    return s;
  } catch (const json::exception& e) {
    return Error(Errc::invalid_input, std::string("state.json: ") + e.what());
  }
}

json to_json(const Journal& j) {
  return {{"step", step_name(j.step)}, {"bundle_sha256", j.bundle_sha256}, {"patch", j.patch_name},
          {"sequence", j.sequence},    {"boot_id", j.boot_id},             {"since", j.since},
          {"detail", j.detail},        {"candidate", j.candidate ? to_json(*j.candidate) : json(nullptr)}};
}

Result<Journal> journal_from_json(const json& j) {
  try {
    Journal out;
    auto step = step_from_name(j.at("step").get<std::string>());
    if (!step) return Error(Errc::invalid_input, "journal.json: unknown step '" +
                                                     j.at("step").get<std::string>() + "'");
    out.step = *step;
    out.bundle_sha256 = j.value("bundle_sha256", "");
    out.patch_name = j.value("patch", "");
    out.sequence = j.value("sequence", uint64_t{0});
    out.boot_id = j.value("boot_id", "");
    out.since = j.value("since", int64_t{0});
    out.detail = j.value("detail", "");
    if (j.contains("candidate") && !j["candidate"].is_null()) out.candidate = applied_from_json(j["candidate"]);
    return out;
  } catch (const json::exception& e) {
    return Error(Errc::invalid_input, std::string("journal.json: ") + e.what());
  }
}

Status StateStore::init() {
  NR_TRY_STATUS(make_dirs(dir_, 0700));
  return make_dirs(dir_ / "bundles", 0700);
}

static Result<json> load_json(const std::filesystem::path& p) {
  NR_TRY(std::string text, read_text(p));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return Error(Errc::invalid_input, p.string() + " is not valid JSON: move it away to reset the "
                                                   "agent's state, or restore it from a backup");
  return j;
}

Result<AgentState> StateStore::load_state() const {
  auto j = load_json(dir_ / "state.json");
  if (!j.ok()) {
    if (j.error().code() == Errc::not_found) return AgentState{};
    return j.error();
  }
  auto s = state_from_json(*j);
  if (!s.ok()) return std::move(s).error().context(dir_.string());
  return s;
}

Status StateStore::save_state(const AgentState& s) const {
  return write_text(dir_ / "state.json", to_json(s).dump(2) + "\n", {.mode = 0600});
}

Result<Journal> StateStore::load_journal() const {
  auto j = load_json(dir_ / "journal.json");
  if (!j.ok()) {
    if (j.error().code() == Errc::not_found) return Journal{};
    return j.error();
  }
  auto out = journal_from_json(*j);
  if (!out.ok()) return std::move(out).error().context(dir_.string());
  return out;
}

Status StateStore::save_journal(const Journal& j, bool durable) const {
  return write_text(dir_ / "journal.json", to_json(j).dump(2) + "\n", {.mode = 0600, .durable = durable});
}

Status StateStore::set_step(Journal j, Step step, int64_t now, std::string detail, bool durable) const {
  j.step = step;
  j.since = now;
  j.detail = std::move(detail);
  return save_journal(j, durable);
}

Status StateStore::save_last_good(std::string_view bundle_bytes) const {
  return write_text(last_good_path(), bundle_bytes, {.mode = 0600});
}

Status StateStore::mark_clean_shutdown(const std::string& boot_id) const {
  return write_text(dir_ / "clean-shutdown", boot_id + "\n", {.mode = 0600});
}

std::string StateStore::clean_shutdown_boot() const {
  return read_trimmed(dir_ / "clean-shutdown").value_or("");
}

Result<FileLock> acquire_state_lock(const std::filesystem::path& dir, bool wait) {
  return FileLock::acquire(dir / "lock", {.wait = wait,
                                          .mode = 0600,
                                          .holder = "noreboot command or the agent",
                                          .busy_hint = "try again when it is done"});
}

}  // namespace noreboot::agent
