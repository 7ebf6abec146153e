// noreboot-feed's configuration: see config.h.
#include "feed/config.h"

#include <set>
#include <toml++/toml.h>

#include "core/file_io.h"
#include "feed/debian_version.h"

namespace noreboot::feed {
namespace {

Error bad(const std::string& origin, const std::string& what) {
  return Error(Errc::invalid_input, origin + ": " + what);
}

Status check_keys(const toml::table& t, const std::set<std::string>& allowed, const std::string& origin,
                  const std::string& where) {
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

Status get_string(const toml::table& t, const char* key, std::string& out, const std::string& origin,
                  const std::string& where = "") {
  const toml::node* n = t.get(key);
  if (!n) return ok_status();
  auto s = n->value<std::string>();
  if (!s || !n->is_string()) return bad(origin, "'" + where + key + "' must be a string");
  out = *s;
  return ok_status();
}

Status get_path(const toml::table& t, const char* key, std::filesystem::path& out, const std::string& origin,
                const std::filesystem::path& base) {
  std::string s;
  NR_TRY_STATUS(get_string(t, key, s, origin));
  if (s.empty()) return ok_status();
  std::filesystem::path p(s);
  out = (p.is_relative() && !base.empty()) ? base / p : p;
  return ok_status();
}

template <typename T>
Status get_int(const toml::table& t, const char* key, T& out, const std::string& origin, const std::string& where,
               std::int64_t min, std::int64_t max) {
  const toml::node* n = t.get(key);
  if (!n) return ok_status();
  auto i = n->value<std::int64_t>();
  if (!i || !n->is_integer()) return bad(origin, "'" + where + key + "' must be a whole number");
  if (*i < min || *i > max)
    return bad(origin, "'" + where + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                           ", got " + std::to_string(*i));
  out = static_cast<T>(*i);
  return ok_status();
}

}  // namespace

std::vector<Stage> default_stages() { return {{1, 600, 0}, {10, 3600, 1}, {100, 0, 5}}; }

Result<FeedConfig> parse_config(std::string_view text, const std::string& origin, const std::filesystem::path& base) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return bad(origin, "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) + ": " +
                           std::string(e.description()));
  }
  FeedConfig c;
  NR_TRY_STATUS(check_keys(root,
                           {"server", "read_token_file", "admin_token_file", "cacert", "publisher_key", "data_dir",
                            "series", "start_after", "approve", "max_files", "kernels", "test", "vm_timeout",
                            "metrics_file", "stages", "tools"},
                           origin, ""));
  NR_TRY_STATUS(get_string(root, "server", c.server, origin));
  if (c.server.empty()) return bad(origin, "'server' is missing: the noreboot server's URL, e.g. \"https://patches.example:8443\"");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return bad(origin, "'server' must start with https:// (or http:// on loopback), got \"" + c.server + "\"");
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  NR_TRY_STATUS(get_path(root, "read_token_file", c.read_token_file, origin, base));
  NR_TRY_STATUS(get_path(root, "admin_token_file", c.admin_token_file, origin, base));
  NR_TRY_STATUS(get_path(root, "cacert", c.cacert, origin, base));
  NR_TRY_STATUS(get_path(root, "publisher_key", c.publisher_key, origin, base));
  NR_TRY_STATUS(get_path(root, "data_dir", c.data_dir, origin, base));
  NR_TRY_STATUS(get_path(root, "metrics_file", c.metrics_file, origin, base));
  if (c.admin_token_file.empty())
    return bad(origin, "'admin_token_file' is missing: a file holding an admin token (noreboot-admin token create-admin --role admin)");
  if (c.read_token_file.empty()) c.read_token_file = c.admin_token_file;
  if (c.publisher_key.empty())
    return bad(origin, "'publisher_key' is missing: the secret key that signs bundles (noreboot-admin keygen PREFIX)");
  if (c.data_dir.empty()) return bad(origin, "'data_dir' is missing: a folder for the feed's state, e.g. \"/var/lib/noreboot-feed\"");
  if (c.metrics_file.empty()) c.metrics_file = c.data_dir / "noreboot_feed.prom";

  NR_TRY_STATUS(get_string(root, "series", c.series, origin));
  if (c.series.empty() || c.series.find_first_not_of("0123456789.") != std::string::npos)
    return bad(origin, "'series' must be a kernel series like \"6.1\" (linux-source-6.1), got \"" + c.series + "\"");
  NR_TRY_STATUS(get_string(root, "start_after", c.start_after, origin));
  if (!c.start_after.empty() && !valid_debian_version(c.start_after))
    return bad(origin, "'start_after' must be a Debian version like \"6.1.192-1\", got \"" + c.start_after + "\"");
  std::string approve = "auto";
  NR_TRY_STATUS(get_string(root, "approve", approve, origin));
  if (approve != "auto" && approve != "manual")
    return bad(origin, "'approve' must be \"auto\" or \"manual\", got \"" + approve + "\"");
  c.manual_approve = approve == "manual";
  NR_TRY_STATUS(get_int(root, "max_files", c.max_files, origin, "", 1, 100000));
  NR_TRY_STATUS(get_int(root, "vm_timeout", c.vm_timeout, origin, "", 60, 86400));
  if (const toml::node* n = root.get("test")) {
    auto b = n->value<bool>();
    if (!b || !n->is_boolean()) return bad(origin, "'test' must be true or false");
    c.test = *b;
  }
  if (const toml::node* n = root.get("kernels")) {
    const toml::array* a = n->as_array();
    if (!a) return bad(origin, "'kernels' must be a list of kernel releases or globs, e.g. [\"6.1.0-*-amd64\"]");
    for (const auto& e : *a) {
      auto s = e.value<std::string>();
      if (!s || !e.is_string() || s->empty()) return bad(origin, "'kernels' entries must be non-empty strings");
      c.kernels.push_back(*s);
    }
  }
  if (const toml::node* n = root.get("stages")) {
    const toml::array* a = n->as_array();
    if (!a || a->empty()) return bad(origin, "'stages' must be a non-empty list of [[stages]] tables");
    int last = 0;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* t = a->get(i)->as_table();
      std::string where = "stages[" + std::to_string(i) + "].";
      if (!t) return bad(origin, "'" + where.substr(0, where.size() - 1) + "' must be a table (percent, soak_seconds, failure_budget)");
      NR_TRY_STATUS(check_keys(*t, {"percent", "soak_seconds", "failure_budget"}, origin, where));
      Stage s;
      if (!t->get("percent")) return bad(origin, "'" + where + "percent' is missing");
      NR_TRY_STATUS(get_int(*t, "percent", s.percent, origin, where, 1, 100));
      NR_TRY_STATUS(get_int(*t, "soak_seconds", s.soak_seconds, origin, where, 0, 30LL * 86400));
      NR_TRY_STATUS(get_int(*t, "failure_budget", s.failure_budget, origin, where, 0, 1000000));
      if (s.percent < last)
        return bad(origin, "'" + where + "percent' is " + std::to_string(s.percent) +
                               ", below the stage before it: stages are cumulative and must not decrease");
      last = s.percent;
      c.stages.push_back(s);
    }
  } else {
    c.stages = default_stages();
  }
  if (const toml::node* n = root.get("tools")) {
    const toml::table* t = n->as_table();
    if (!t) return bad(origin, "'tools' must be a table");
    NR_TRY_STATUS(check_keys(*t, {"debian_fix", "build", "admin", "vm", "kernel_fetch"}, origin, "tools."));
    NR_TRY_STATUS(get_string(*t, "debian_fix", c.tools.debian_fix, origin, "tools."));
    NR_TRY_STATUS(get_string(*t, "build", c.tools.build, origin, "tools."));
    NR_TRY_STATUS(get_string(*t, "admin", c.tools.admin, origin, "tools."));
    NR_TRY_STATUS(get_string(*t, "vm", c.tools.vm, origin, "tools."));
    NR_TRY_STATUS(get_string(*t, "kernel_fetch", c.tools.kernel_fetch, origin, "tools."));
  }
  return c;
}

Result<FeedConfig> load_config(const std::filesystem::path& file) {
  auto bytes = read_file(file, 1 << 20);
  if (!bytes) return Error(Errc::invalid_argument, "the configuration: " + bytes.error().message() + " (give one with --config FILE)");
  std::string text(bytes->begin(), bytes->end());
  std::error_code ec;
  auto absolute = std::filesystem::absolute(file, ec);
  return parse_config(text, file.string(), ec ? file.parent_path() : absolute.parent_path());
}

}  // namespace noreboot::feed
