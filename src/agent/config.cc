#include "agent/config.h"

#include "core/toml_config.h"
#include "agent/fs_util.h"

namespace noreboot::agent {

namespace {

Result<int> parse_hhmm(const std::string& s, const toml_config::Table& t, const char* key) {
  int h = -1, m = -1;
  char colon = 0;
  if (s.size() == 5 && std::sscanf(s.c_str(), "%2d%c%2d", &h, &colon, &m) == 3 && colon == ':' &&
      h >= 0 && h <= 24 && m >= 0 && m < 60 && (h < 24 || m == 0))
    return h * 60 + m;
  return t.error(key, "must be a time like \"02:30\" (UTC), got \"" + s + "\"");
}

Result<unsigned> parse_day(std::string d, const toml_config::Table& t) {
  static const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (unsigned i = 0; i < 7; ++i)
    if (d.rfind(names[i], 0) == 0) return 1u << i;
  return t.error("days", "has an unknown day \"" + d + "\" (use mon, tue, ... sun)");
}

Status read_window(const toml_config::Table& t, MaintenanceWindow& w) {
  NR_TRY_STATUS(t.only_keys({"days", "start", "end"}));
  std::string start, end;
  NR_TRY_STATUS(t.get("start", start));
  NR_TRY_STATUS(t.get("end", end));
  if (start.empty() || end.empty())
    return t.error(start.empty() ? "start" : "end",
                   "is missing: each [[maintenance_window]] needs start = \"HH:MM\" and end = \"HH:MM\" (UTC)");
  NR_TRY(w.start_minute, parse_hhmm(start, t, "start"));
  NR_TRY(w.end_minute, parse_hhmm(end, t, "end"));
  if (t.has("days")) {
    std::vector<std::string> days;
    NR_TRY_STATUS(t.get("days", days));
    w.days_mask = 0;
    for (const auto& d : days) {
      NR_TRY(unsigned bit, parse_day(d, t));
      w.days_mask |= bit;
    }
  }
  return ok_status();
}

}  // namespace

Result<AgentConfig> parse_config(std::string_view text, const std::string& origin) {
  NR_TRY(auto doc, toml_config::Document::parse(text, origin));
  auto root = doc.root();
  AgentConfig c;
  NR_TRY_STATUS(root.only_keys(
      {"server", "trusted_keys", "state_dir", "ca_file", "checkin", "timeouts", "maintenance_window"}));
  NR_TRY_STATUS(root.get("server", c.server));
  if (!c.server.empty() && c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return root.error("server", "must start with https:// (or http:// for tests), got \"" + c.server + "\"");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  std::vector<std::string> keys;
  NR_TRY_STATUS(root.get("trusted_keys", keys));
  c.trusted_keys.assign(keys.begin(), keys.end());
  std::string path = c.state_dir.string();
  NR_TRY_STATUS(root.get("state_dir", path));
  c.state_dir = path;
  path = c.ca_file.string();
  NR_TRY_STATUS(root.get("ca_file", path));
  c.ca_file = path;
  NR_TRY(auto checkin, root.table("checkin"));
  if (checkin) {
    NR_TRY_STATUS(checkin->only_keys({"interval_seconds", "jitter_seconds", "long_poll_seconds"}));
    NR_TRY_STATUS(checkin->get_number("interval_seconds", c.interval_seconds, 1));
    NR_TRY_STATUS(checkin->get_number("jitter_seconds", c.jitter_seconds, 0));
    NR_TRY_STATUS(checkin->get_number("long_poll_seconds", c.long_poll_seconds, 0));
  }
  NR_TRY(auto timeouts, root.table("timeouts"));
  if (timeouts) {
    NR_TRY_STATUS(timeouts->only_keys({"transition_seconds", "signal_seconds", "reverse_seconds", "watch_seconds",
                                       "settle_seconds", "download_seconds"}));
    NR_TRY_STATUS(timeouts->get_number("transition_seconds", c.transition_seconds, 0.1));
    NR_TRY_STATUS(timeouts->get_number("signal_seconds", c.signal_seconds, 0));
    NR_TRY_STATUS(timeouts->get_number("reverse_seconds", c.reverse_seconds, 0.1));
    NR_TRY_STATUS(timeouts->get_number("watch_seconds", c.watch_seconds, 0));
    NR_TRY_STATUS(timeouts->get_number("settle_seconds", c.settle_seconds, 0));
    NR_TRY_STATUS(timeouts->get_number("download_seconds", c.download_seconds, 1));
  }
  NR_TRY(auto windows, root.tables("maintenance_window"));
  for (const auto& t : windows) {
    MaintenanceWindow w;
    NR_TRY_STATUS(read_window(t, w));
    c.windows.push_back(w);
  }
  return c;
}

Result<AgentConfig> load_config(const std::filesystem::path& path, bool must_exist) {
  auto text = read_text(path);
  if (!text.ok()) {
    if (text.error().code() == Errc::not_found && !must_exist) return AgentConfig{};
    return std::move(text).error().context("agent configuration");
  }
  return parse_config(*text, path.string());
}

bool in_maintenance_window(const std::vector<MaintenanceWindow>& windows, std::time_t now) {
  if (windows.empty()) return true;
  std::tm tm{};
  gmtime_r(&now, &tm);
  int minute = tm.tm_hour * 60 + tm.tm_min;
  for (const auto& w : windows) {
    if (w.start_minute <= w.end_minute) {
      if ((w.days_mask >> tm.tm_wday & 1) && minute >= w.start_minute && minute < w.end_minute) return true;
    } else {  // crosses midnight: the part before midnight belongs to the start day
      int yesterday = (tm.tm_wday + 6) % 7;
      if ((w.days_mask >> tm.tm_wday & 1) && minute >= w.start_minute) return true;
      if ((w.days_mask >> yesterday & 1) && minute < w.end_minute) return true;
    }
  }
  return false;
}

}  // namespace noreboot::agent
