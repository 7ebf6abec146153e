// The feed's state file and run lock: see state.h.
#include "feed/state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/manifest.h"

namespace noreboot::feed {

using nlohmann::json;

bool VersionState::has_step(const std::string& step) const {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

void VersionState::add_step(const std::string& step) {
  if (!has_step(step)) steps.push_back(step);
  updated = rfc3339_utc_now();
}

VersionState* FeedState::find(const std::string& version) {
  for (auto& v : versions)
    if (v.version == version) return &v;
  return nullptr;
}

std::string serialize_state(const FeedState& s) {
  json j;
  j["format_version"] = 1;
  j["processed_up_to"] = s.processed_up_to;
  j["last_run"] = s.last_run;
  j["last_success"] = s.last_success;
  j["last_result"] = s.last_result;
  j["counters"] = {{"found", s.counters.found}, {"built", s.counters.built}, {"tested", s.counters.tested},
                   {"published", s.counters.published}, {"failures", s.counters.failures},
                   {"audit_failures", s.counters.audit_failures}};
  j["versions"] = json::array();
  for (const auto& v : s.versions) {
    json fixes = json::array();
    for (const auto& f : v.fixes) fixes.push_back({{"id", f.id}, {"description", f.description}});
    j["versions"].push_back({{"version", v.version}, {"from", v.from}, {"status", v.status}, {"steps", v.steps},
                             {"fixes", fixes}, {"cves", v.cves}, {"kernels", v.kernels}, {"tests", v.tests},
                             {"message", v.message}, {"updated", v.updated}});
    if (!v.inbox_cve.empty()) j["versions"].back()["inbox_cve"] = v.inbox_cve;
  }
  return j.dump(2) + "\n";
}

Result<FeedState> parse_state(std::string_view text, std::string_view source) {
  auto bad = [&](const std::string& what) {
    return Error(Errc::invalid_input, std::string(source) + ": " + what +
                                          " (the feed's state is damaged: restore it from a backup, or move it away "
                                          "and set start_after in the config to start over)");
  };
  try {
    json j = json::parse(text);
    if (!j.is_object()) return bad("not a JSON object");
    if (j.value("format_version", 0) != 1) return bad("format_version must be 1");
    FeedState s;
    s.processed_up_to = j.at("processed_up_to").get<std::string>();
    s.last_run = j.value("last_run", std::int64_t{0});
    s.last_success = j.value("last_success", std::int64_t{0});
    s.last_result = j.value("last_result", std::string());
    if (j.contains("counters")) {
      const auto& c = j["counters"];
      s.counters = {c.value("found", 0ull), c.value("built", 0ull), c.value("tested", 0ull),
                    c.value("published", 0ull), c.value("failures", 0ull), c.value("audit_failures", 0ull)};
    }
    for (const auto& v : j.at("versions")) {
      VersionState vs;
      vs.version = v.at("version").get<std::string>();
      vs.from = v.at("from").get<std::string>();
      vs.status = v.at("status").get<std::string>();
      vs.steps = v.at("steps").get<std::vector<std::string>>();
      for (const auto& f : v.at("fixes")) vs.fixes.push_back({f.at("id").get<std::string>(), f.at("description").get<std::string>()});
      vs.cves = v.value("cves", std::vector<std::string>());
      vs.kernels = v.value("kernels", std::vector<std::string>());
      vs.tests = v.value("tests", std::map<std::string, std::string>());
      vs.message = v.value("message", std::string());
      vs.updated = v.value("updated", std::string());
      vs.inbox_cve = v.value("inbox_cve", std::string());
      s.versions.push_back(std::move(vs));
    }
    return s;
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

Result<FeedState> load_state(const std::filesystem::path& data_dir) {
  auto file = data_dir / "state.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return FeedState{};
  NR_TRY(auto bytes, read_file(file, 64 << 20));
  return parse_state(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), file.string());
}

Status save_state(const std::filesystem::path& data_dir, const FeedState& state) {
  std::string text = serialize_state(state);
  return write_file(data_dir / "state.json", ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                    {.mode = 0640});
}

Result<FileLock> acquire_run_lock(const std::filesystem::path& data_dir) {
  return FileLock::acquire(data_dir / "lock", {.wait = false,
                                               .mode = 0640,
                                               .record_pid = true,
                                               .holder = "noreboot-feed run",
                                               .busy_hint = "runs do not overlap: wait for it to finish"});
}

}  // namespace noreboot::feed
