#include "agent/config.h"

#include <set>
#include <toml++/toml.h>

#include "agent/fs_util.h"

namespace noreboot::agent {

namespace {

Error bad(const std::string& origin, const std::string& what) {
  return Error(Errc::invalid_input, origin + ": " + what);
}

Status check_keys(const toml::table& t, const std::set<std::string>& allowed,
                  const std::string& origin, const std::string& where) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return bad(origin, "unknown key '" + where + key + "' (known: " + list + ")");
    }
  }
  return ok_status();
}

template <typename T>
Status get_number(const toml::table& t, const char* key, T& out, const std::string& origin,
                  const std::string& where, double min) {
  const toml::node* n = t.get(key);
  if (!n) return ok_status();
  double v;
  if (auto i = n->value<int64_t>(); i && n->is_integer()) v = static_cast<double>(*i);
  else if (auto d = n->value<double>()) v = *d;
  else return bad(origin, "'" + where + key + "' must be a number");
  if (v < min) return bad(origin, "'" + where + key + "' must be at least " + std::to_string(min));
  out = static_cast<T>(v);
  return ok_status();
}

Result<int> parse_hhmm(const std::string& s, const std::string& origin, const std::string& key) {
  int h = -1, m = -1;
  char colon = 0;
  if (s.size() == 5 && std::sscanf(s.c_str(), "%2d%c%2d", &h, &colon, &m) == 3 && colon == ':' &&
      h >= 0 && h <= 24 && m >= 0 && m < 60 && (h < 24 || m == 0))
    return h * 60 + m;
  return bad(origin, "'" + key + "' must be a time like \"02:30\" (UTC), got \"" + s + "\"");
}

Result<unsigned> parse_day(std::string d, const std::string& origin) {
  static const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (unsigned i = 0; i < 7; ++i)
    if (d.rfind(names[i], 0) == 0) return 1u << i;
  return bad(origin, "maintenance_window: unknown day \"" + d + "\" (use mon, tue, ... sun)");
}

}  // namespace

Result<AgentConfig> parse_config(std::string_view text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return bad(origin, "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                           ": " + std::string(e.description()));
  }
  AgentConfig c;
  NR_TRY_STATUS(check_keys(root,
                           {"server", "trusted_keys", "state_dir", "ca_file", "checkin", "timeouts",
                            "maintenance_window"},
                           origin, ""));
  if (const toml::node* n = root.get("server")) {
    auto s = n->value<std::string>();
    if (!s) return bad(origin, "'server' must be a string like \"https://host:8443\"");
    c.server = *s;
    if (!c.server.empty() && c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
      return bad(origin, "'server' must start with https:// (or http:// for tests), got \"" + c.server + "\"");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  }
  if (const toml::node* n = root.get("trusted_keys")) {
    const toml::array* a = n->as_array();
    if (!a) return bad(origin, "'trusted_keys' must be an array of paths to .pub files");
    for (const auto& e : *a) {
      auto s = e.value<std::string>();
      if (!s) return bad(origin, "'trusted_keys' entries must be strings (paths to .pub files)");
      c.trusted_keys.emplace_back(*s);
    }
  }
  for (auto [key, field] : {std::pair{"state_dir", &c.state_dir}, std::pair{"ca_file", &c.ca_file}}) {
    if (const toml::node* n = root.get(key)) {
      auto s = n->value<std::string>();
      if (!s) return bad(origin, std::string("'") + key + "' must be a path string");
      *field = *s;
    }
  }
  if (const toml::node* n = root.get("checkin")) {
    const toml::table* t = n->as_table();
    if (!t) return bad(origin, "'checkin' must be a table: [checkin]");
    NR_TRY_STATUS(check_keys(*t, {"interval_seconds", "jitter_seconds", "long_poll_seconds"}, origin,
                             "checkin."));
    NR_TRY_STATUS(get_number(*t, "interval_seconds", c.interval_seconds, origin, "checkin.", 1));
    NR_TRY_STATUS(get_number(*t, "jitter_seconds", c.jitter_seconds, origin, "checkin.", 0));
    NR_TRY_STATUS(get_number(*t, "long_poll_seconds", c.long_poll_seconds, origin, "checkin.", 0));
  }
  if (const toml::node* n = root.get("timeouts")) {
    const toml::table* t = n->as_table();
    if (!t) return bad(origin, "'timeouts' must be a table: [timeouts]");
    NR_TRY_STATUS(check_keys(*t,
                             {"transition_seconds", "signal_seconds", "reverse_seconds", "watch_seconds",
                              "settle_seconds", "download_seconds"},
                             origin, "timeouts."));
    NR_TRY_STATUS(get_number(*t, "transition_seconds", c.transition_seconds, origin, "timeouts.", 0.1));
    NR_TRY_STATUS(get_number(*t, "signal_seconds", c.signal_seconds, origin, "timeouts.", 0));
    NR_TRY_STATUS(get_number(*t, "reverse_seconds", c.reverse_seconds, origin, "timeouts.", 0.1));
    NR_TRY_STATUS(get_number(*t, "watch_seconds", c.watch_seconds, origin, "timeouts.", 0));
    NR_TRY_STATUS(get_number(*t, "settle_seconds", c.settle_seconds, origin, "timeouts.", 0));
    NR_TRY_STATUS(get_number(*t, "download_seconds", c.download_seconds, origin, "timeouts.", 1));
  }
  if (const toml::node* n = root.get("maintenance_window")) {
    const toml::array* a = n->as_array();
    if (!a) return bad(origin, "'maintenance_window' must be an array of tables: [[maintenance_window]]");
    for (const auto& e : *a) {
      const toml::table* t = e.as_table();
      if (!t) return bad(origin, "each [[maintenance_window]] must be a table");
      NR_TRY_STATUS(check_keys(*t, {"days", "start", "end"}, origin, "maintenance_window."));
      MaintenanceWindow w;
      auto start = (*t)["start"].value<std::string>();
      auto end = (*t)["end"].value<std::string>();
      if (!start || !end)
        return bad(origin, "each [[maintenance_window]] needs start = \"HH:MM\" and end = \"HH:MM\" (UTC)");
      NR_TRY(w.start_minute, parse_hhmm(*start, origin, "maintenance_window.start"));
      NR_TRY(w.end_minute, parse_hhmm(*end, origin, "maintenance_window.end"));
      if (const toml::node* days = t->get("days")) {
        const toml::array* da = days->as_array();
        if (!da) return bad(origin, "'maintenance_window.days' must be an array like [\"sat\", \"sun\"]");
        w.days_mask = 0;
        for (const auto& d : *da) {
          auto s = d.value<std::string>();
          if (!s) return bad(origin, "'maintenance_window.days' entries must be strings");
          NR_TRY(unsigned bit, parse_day(*s, origin));
          w.days_mask |= bit;
        }
      }
      c.windows.push_back(w);
    }
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
