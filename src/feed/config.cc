// noreboot-feed's configuration: see config.h.
#include "feed/config.h"

#include "core/file_io.h"
#include "core/toml_config.h"
#include "feed/debian_version.h"

namespace noreboot::feed {
namespace {

// A path setting; relative paths are taken from the configuration file's folder.
Status get_path(const toml_config::Table& t, const char* key, std::filesystem::path& out,
                const std::filesystem::path& base) {
  std::string s;
  NR_TRY_STATUS(t.get(key, s));
  if (s.empty()) return ok_status();
  std::filesystem::path p(s);
  out = (p.is_relative() && !base.empty()) ? base / p : p;
  return ok_status();
}

Result<std::vector<Stage>> read_stages(const toml_config::Table& root) {
  NR_TRY(auto tables, root.tables("stages"));
  if (tables.empty()) return root.error("stages", "must be a non-empty list of [[stages]] tables");
  std::vector<Stage> stages;
  int last = 0;
  for (const auto& t : tables) {
    NR_TRY_STATUS(t.only_keys({"percent", "soak_seconds", "failure_budget"}));
    Stage s;
    if (!t.has("percent")) return t.error("percent", "is missing");
    NR_TRY_STATUS(t.get_integer("percent", s.percent, 1, 100));
    NR_TRY_STATUS(t.get_integer("soak_seconds", s.soak_seconds, 0, 30LL * 86400));
    NR_TRY_STATUS(t.get_integer("failure_budget", s.failure_budget, 0, 1000000));
    if (s.percent < last)
      return t.error("percent", "is " + std::to_string(s.percent) +
                                    ", below the stage before it: stages are cumulative and must not decrease");
    last = s.percent;
    stages.push_back(s);
  }
  return stages;
}

}  // namespace

std::vector<Stage> default_stages() { return {{1, 600, 0}, {10, 3600, 1}, {100, 0, 5}}; }

Result<FeedConfig> parse_config(std::string_view text, const std::string& origin, const std::filesystem::path& base) {
  NR_TRY(auto doc, toml_config::Document::parse(text, origin));
  auto root = doc.root();
  auto bad = [&](const std::string& what) { return Error(Errc::invalid_input, origin + ": " + what); };
  FeedConfig c;
  NR_TRY_STATUS(root.only_keys({"server", "read_token_file", "admin_token_file", "cacert", "publisher_key", "data_dir",
                                "series", "start_after", "approve", "max_files", "kernels", "test", "vm_timeout",
                                "metrics_file", "stages", "tools"}));
  NR_TRY_STATUS(root.get("server", c.server));
  if (c.server.empty()) return bad("'server' is missing: the noreboot server's URL, e.g. \"https://patches.example:8443\"");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return root.error("server", "must start with https:// (or http:// on loopback), got \"" + c.server + "\"");
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  NR_TRY_STATUS(get_path(root, "read_token_file", c.read_token_file, base));
  NR_TRY_STATUS(get_path(root, "admin_token_file", c.admin_token_file, base));
  NR_TRY_STATUS(get_path(root, "cacert", c.cacert, base));
  NR_TRY_STATUS(get_path(root, "publisher_key", c.publisher_key, base));
  NR_TRY_STATUS(get_path(root, "data_dir", c.data_dir, base));
  NR_TRY_STATUS(get_path(root, "metrics_file", c.metrics_file, base));
  if (c.admin_token_file.empty())
    return bad("'admin_token_file' is missing: a file holding an admin token (noreboot-admin token create-admin --role admin)");
  if (c.read_token_file.empty()) c.read_token_file = c.admin_token_file;
  if (c.publisher_key.empty())
    return bad("'publisher_key' is missing: the secret key that signs bundles (noreboot-admin keygen PREFIX)");
  if (c.data_dir.empty()) return bad("'data_dir' is missing: a folder for the feed's state, e.g. \"/var/lib/noreboot-feed\"");
  if (c.metrics_file.empty()) c.metrics_file = c.data_dir / "noreboot_feed.prom";

  NR_TRY_STATUS(root.get("series", c.series));
  if (c.series.empty() || c.series.find_first_not_of("0123456789.") != std::string::npos)
    return root.error("series", "must be a kernel series like \"6.1\" (linux-source-6.1), got \"" + c.series + "\"");
  NR_TRY_STATUS(root.get("start_after", c.start_after));
  if (!c.start_after.empty() && !valid_debian_version(c.start_after))
    return root.error("start_after", "must be a Debian version like \"6.1.192-1\", got \"" + c.start_after + "\"");
  std::string approve = "auto";
  NR_TRY_STATUS(root.get("approve", approve));
  if (approve != "auto" && approve != "manual")
    return root.error("approve", "must be \"auto\" or \"manual\", got \"" + approve + "\"");
  c.manual_approve = approve == "manual";
  NR_TRY_STATUS(root.get_integer("max_files", c.max_files, 1, 100000));
  NR_TRY_STATUS(root.get_integer("vm_timeout", c.vm_timeout, 60, 86400));
  NR_TRY_STATUS(root.get("test", c.test));
  if (root.has("kernels")) {
    c.kernels.clear();
    NR_TRY_STATUS(root.get("kernels", c.kernels));
    for (const auto& k : c.kernels)
      if (k.empty()) return root.error("kernels", "entries must be non-empty kernel releases or globs, e.g. [\"6.1.0-*-amd64\"]");
  }
  if (root.has("stages")) {
    NR_TRY(c.stages, read_stages(root));
  } else {
    c.stages = default_stages();
  }
  NR_TRY(auto tools, root.table("tools"));
  if (tools) {
    NR_TRY_STATUS(tools->only_keys({"debian_fix", "build", "admin", "vm", "kernel_fetch"}));
    NR_TRY_STATUS(tools->get("debian_fix", c.tools.debian_fix));
    NR_TRY_STATUS(tools->get("build", c.tools.build));
    NR_TRY_STATUS(tools->get("admin", c.tools.admin));
    NR_TRY_STATUS(tools->get("vm", c.tools.vm));
    NR_TRY_STATUS(tools->get("kernel_fetch", c.tools.kernel_fetch));
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
