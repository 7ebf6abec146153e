// noreboot-admin's server commands: publish, rollout, pin/unpin, hosts, host, fleet, token,
// audit. Each is one or two API calls (docs/api.md); people get aligned tables, scripts get
// the server's JSON with --json.
//
// Every command takes --server URL (or NOREBOOT_SERVER), an admin token through --token-file
// FILE or NOREBOOT_ADMIN_TOKEN (never on the command line, where `ps` would show it), and
// --cacert PEM for a server with a private CA.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "admin/cmd_server_client.h"
#include "admin/command.h"
#include "core/api_types.h"
#include "core/bytes.h"
#include "core/file_io.h"
#include "core/fix_record.h"
#include "core/manifest.h"
#include "core/numbers.h"

namespace noreboot::admin {
namespace {

using nlohmann::json;

const std::vector<OptionSpec> kCommon = {{"server"}, {"token-file"}, {"cacert"}, {"json", 0, false}};

std::vector<OptionSpec> with_common(std::vector<OptionSpec> extra) {
  extra.insert(extra.end(), kCommon.begin(), kCommon.end());
  return extra;
}

const char* kCommonHelp = R"(
common options:
  --server URL       the server (default: $NOREBOOT_SERVER)
  --token-file FILE  file holding an admin token (default: $NOREBOOT_ADMIN_TOKEN)
  --cacert PEM       CA certificate for a server with a private or self-signed certificate
  --json             print the server's JSON instead of a table
)";

Result<ServerTarget> target(const ParsedArgs& a) {
  ServerTarget t;
  const char* env_url = std::getenv("NOREBOOT_SERVER");
  t.url = a.value("server").value_or(env_url ? env_url : "");
  if (auto f = a.value("token-file")) {
    std::ifstream in(*f);
    if (!in) return Error(Errc::invalid_argument, "--token-file " + *f + ": cannot read it");
    std::getline(in, t.token);
    while (!t.token.empty() && (t.token.back() == '\r' || t.token.back() == ' ')) t.token.pop_back();
  } else if (const char* env = std::getenv("NOREBOOT_ADMIN_TOKEN")) {
    t.token = env;
  }
  t.cacert = a.value("cacert").value_or("");
  return t;
}

std::string when(std::int64_t t) { return readable_utc(t); }

// A whole, non-negative number (digits only: no sign, spaces or trailing text, at most 18
// digits so it fits the server's 64-bit integers). `option` names it in the error.
Result<std::int64_t> whole_number(const std::string& text, const std::string& option, const char* what) {
  auto n = parse_decimal(text, 18);
  if (!n) return Error(Errc::invalid_argument, option + " '" + text + "': expected " + what);
  return static_cast<std::int64_t>(*n);
}

// --stage PERCENT[:SOAK_SECONDS[:FAILURE_BUDGET]]; the percent may have a fraction ("0.5").
Result<json> parse_stage(const std::string& spec) {
  Error bad(Errc::invalid_argument,
            "--stage '" + spec + "': expected PERCENT[:SOAK_SECONDS[:FAILURE_BUDGET]], e.g. 10:3600:2");
  std::vector<std::string> parts;
  std::stringstream ss(spec);
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  if (parts.empty() || parts.size() > 3 || (!spec.empty() && spec.back() == ':')) return bad;
  const std::string& pct = parts[0];
  auto dot = pct.find('.');
  auto whole = parse_decimal(pct.substr(0, dot), 3);
  auto fraction = dot == std::string::npos ? std::optional<std::uint64_t>(0) : parse_decimal(pct.substr(dot + 1), 6);
  if (!whole || !fraction) return bad;
  std::int64_t numbers[2] = {0, 0};
  for (size_t i = 1; i < parts.size(); ++i) {
    auto n = parse_decimal(parts[i], 18);
    if (!n) return bad;
    numbers[i - 1] = static_cast<std::int64_t>(*n);
  }
  json percent = *whole;
  if (dot != std::string::npos) percent = static_cast<double>(*whole) + static_cast<double>(*fraction) /
                                                                           std::pow(10.0, pct.size() - dot - 1);
  return json{{"percent", percent}, {"soak_seconds", numbers[0]}, {"failure_budget", numbers[1]}};
}

std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  return j.dump();
}

// Prints rows as left-aligned columns.
void table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i)
      out << (i + 1 < r.size() ? r[i] + std::string(w[i] - r[i].size() + 2, ' ') : r[i]);
    out << "\n";
  }
}

Status print_json(Context& ctx, const json& j) {
  ctx.out << j.dump(2) << "\n";
  return ok_status();
}

void print_rollout(Context& ctx, const json& r) {
  const auto& st = r["stages"];
  int cur = r["current_stage"].get<int>();
  std::string what = r.contains("fix") ? "fix " + str(r["fix"]) + " (" + std::to_string(r["kernels"].size()) + " kernels)"
                                       : str(r["patch_name"]) + " #" + r["sequence"].dump();
  ctx.out << "rollout " << str(r["id"]) << "  " << what << "  "
          << str(r["state"]) << (r["halt_reason"].get<std::string>().empty() ? "" : " (" + str(r["halt_reason"]) + ")")
          << (r.contains("fix") ? std::string() : "\n  bundle " + str(r["bundle_sha256"])) << "\n  hosts: " << r["counts"]["in_stage"] << " of "
          << r["counts"]["targeted"] << " in stage; offered " << r["counts"]["offered"] << ", applied "
          << r["counts"]["applied"] << ", failed " << r["counts"]["failed"] << "\n";
  std::vector<std::vector<std::string>> rows = {{"  stage", "percent", "soak", "failure budget", ""}};
  for (std::size_t i = 0; i < st.size(); ++i) {
    std::string mark = static_cast<int>(i) == cur ? (r["state"] == "completed" ? "done" : "<- current")
                                                  : (static_cast<int>(i) < cur ? "done" : "");
    std::ostringstream pct;
    pct << st[i]["percent"].get<double>() << "%";
    rows.push_back({"  " + std::to_string(i + 1), pct.str(), std::to_string(st[i]["soak_seconds"].get<std::int64_t>()) + "s",
                    std::to_string(st[i]["failure_budget"].get<std::int64_t>()), mark});
  }
  table(ctx.out, rows);
}

// ---- commands -------------------------------------------------------------------------------

// A file named on the command line: a missing or unreadable one is a usage error (exit 2).
Result<std::string> read_whole(const std::filesystem::path& path) {
  auto text = read_text(path);
  if (!text) return Error(Errc::invalid_argument, text.error().message());
  return text;
}

// One line per exposure group of a fix (GET /v1/fixes objects).
void print_fix(Context& ctx, const json& f) {
  ctx.out << "fix " << str(f["id"]) << (f["description"].get<std::string>().empty() ? "" : "  " + str(f["description"]))
          << "\n";
  const json& h = f["hosts"];
  std::vector<std::vector<std::string>> rows = {{"  HOSTS", "COUNT", "KERNELS"}};
  for (const char* g : {"patched", "exposed", "already_fixed", "not_built", "not_covered"}) {
    std::string ks;
    for (const auto& k : h[g]["kernels"])
      ks += (ks.empty() ? "" : ", ") + str(k["release"]) + " (" + std::to_string(k["count"].get<std::int64_t>()) +
            (k.contains("outcome") && k["outcome"] != "built" ? ", " + str(k["outcome"]) : "") + ")";
    rows.push_back({std::string("  ") + g, std::to_string(h[g]["count"].get<std::int64_t>()), ks.empty() ? "-" : ks});
  }
  table(ctx.out, rows);
}

// noreboot-build's multi-kernel output: every *.nrp first (the record names them by hash and the
// server checks they were uploaded), then fix.json + fix.sig.
Status publish_dir(const std::filesystem::path& dir, const ParsedArgs& a, Context& ctx, const ServerTarget& t) {
  std::vector<std::filesystem::path> bundles;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".nrp") bundles.push_back(e.path());
  if (ec) return Error(Errc::invalid_argument, dir.string() + ": " + ec.message());
  std::sort(bundles.begin(), bundles.end());
  bool has_record = std::filesystem::exists(dir / "fix.json");
  if (bundles.empty() && !has_record)
    return Error(Errc::invalid_argument, dir.string() + ": no *.nrp and no fix.json (noreboot-build -o DIR writes them)");
  json out = {{"bundles", json::array()}, {"record", nullptr}};
  for (const auto& b : bundles) {
    NR_TRY(auto bytes, read_whole(b));
    auto j = server_call(t, "POST", "/v1/bundles", bytes, "application/octet-stream");
    if (!j) return std::move(j).error().context(b.string());
    out["bundles"].push_back(*j);
    if (!a.flag("json"))
      ctx.out << "published " << str((*j)["patch_name"]) << " #" << (*j)["sequence"] << " for "
              << str((*j)["kernel"]["release"]) << "  " << str((*j)["sha256"]) << "\n";
  }
  if (has_record) {
    NR_TRY(auto record, read_whole(dir / "fix.json"));
    NR_TRY(auto sig, read_whole(dir / "fix.sig"));
    json body = {{"record", base64_encode(as_bytes(record))}, {"signature", sig}};
    auto j = server_call(t, "POST", "/v1/fixes", body.dump());
    if (!j) return std::move(j).error().context((dir / "fix.json").string());
    out["record"] = *j;
    if (!a.flag("json")) {
      ctx.out << "published fix record " << str((*j)["sha256"]) << " (signed by key " << str((*j)["signer"]) << ")\n";
      for (const auto& f : (*j)["fixes"]) print_fix(ctx, f);
    }
  } else if (!a.flag("json")) {
    ctx.out << "no fix.json in " << dir.string() << ": bundles only (build with --fix ID:text for a fix record)\n";
  }
  if (a.flag("json")) return print_json(ctx, out);
  return ok_status();
}

Status publish(const ParsedArgs& a, Context& ctx) {
  if (a.positional.size() != 1) return Error(Errc::invalid_argument, "expected one FILE.nrp or DIR");
  NR_TRY(auto t, target(a));
  if (std::filesystem::is_directory(a.positional[0])) return publish_dir(a.positional[0], a, ctx, t);
  NR_TRY(auto bytes, read_whole(a.positional[0]));
  NR_TRY(auto j, server_call(t, "POST", "/v1/bundles", bytes, "application/octet-stream"));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << "published " << str(j["patch_name"]) << " #" << j["sequence"] << " for " << str(j["kernel"]["release"])
          << "\n  bundle " << str(j["sha256"]) << " (" << j["size"] << " bytes)\n";
  return ok_status();
}

Status fixes(const ParsedArgs& a, Context& ctx) {
  if (a.positional.size() > 1) return Error(Errc::invalid_argument, "expected at most one fix id");
  NR_TRY(auto t, target(a));
  if (a.positional.size() == 1) {
    if (!valid_fix_id(a.positional[0]))
      return Error(Errc::invalid_argument, "'" + a.positional[0] + "' is not a fix id (A-Z a-z 0-9 . _ + -)");
    NR_TRY(auto j, server_call(t, "GET", "/v1/fixes/" + a.positional[0]));
    if (a.flag("json")) return print_json(ctx, j);
    print_fix(ctx, j);
    ctx.out << "  kernels of the record(s):\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : j["kernels"])
      rows.push_back({"    " + str(k["release"]), str(k["version"]), str(k["outcome"]),
                      k.contains("bundle_sha256") ? str(k["bundle_sha256"]).substr(0, 16) + "... #" + k["sequence"].dump()
                                                  : str(k["reason"]).substr(0, 60)});
    table(ctx.out, rows);
    return ok_status();
  }
  NR_TRY(auto j, server_call(t, "GET", "/v1/fixes"));
  if (a.flag("json")) return print_json(ctx, j);
  std::vector<std::vector<std::string>> rows = {{"FIX", "PATCHED", "EXPOSED", "ALREADY FIXED", "NOT BUILT", "NOT COVERED", "DESCRIPTION"}};
  for (const auto& f : j["fixes"]) {
    const json& h = f["hosts"];
    auto n = [&](const char* g) { return std::to_string(h[g]["count"].get<std::int64_t>()); };
    rows.push_back({str(f["id"]), n("patched"), n("exposed"), n("already_fixed"), n("not_built"), n("not_covered"),
                    str(f["description"]).substr(0, 60)});
  }
  table(ctx.out, rows);
  return ok_status();
}

Status rollout(const ParsedArgs& a, Context& ctx) {
  if (a.positional.empty())
    return Error(Errc::invalid_argument, "expected a subcommand: create, status, promote, halt, resume");
  const std::string& sub = a.positional[0];
  NR_TRY(auto t, target(a));
  if (sub == "create") {
    if (a.positional.size() != 1) return Error(Errc::invalid_argument, "rollout create takes options only");
    auto bundle = a.value("bundle");
    auto fix = a.value("fix");
    if (!bundle == !fix) return Error(Errc::invalid_argument, "rollout create needs --bundle SHA256 or --fix ID (not both)");
    json stages = json::array();
    for (const auto& s : a.all("stage")) {
      NR_TRY(auto stage, parse_stage(s));
      stages.push_back(std::move(stage));
    }
    if (stages.empty()) stages.push_back({{"percent", 100}, {"soak_seconds", 0}, {"failure_budget", 0}});
    json body = {{"groups", a.all("group")}, {"tags", a.all("tag")}, {"stages", stages}};
    if (fix) body["fix"] = *fix;
    else body["bundle_sha256"] = *bundle;
    if (auto w = a.value("window")) body["window"] = *w;
    if (a.flag("await-approval")) body["await_approval"] = true;
    NR_TRY(auto j, server_call(t, "POST", "/v1/rollouts", body.dump()));
    if (a.flag("json")) return print_json(ctx, j);
    print_rollout(ctx, j);
    return ok_status();
  }
  if (sub == "status") {
    if (a.positional.size() == 2) {
      NR_TRY(auto j, server_call(t, "GET", "/v1/rollouts/" + a.positional[1]));
      if (a.flag("json")) return print_json(ctx, j);
      print_rollout(ctx, j);
      return ok_status();
    }
    NR_TRY(auto j, server_call(t, "GET", "/v1/rollouts"));
    if (a.flag("json")) return print_json(ctx, j);
    std::vector<std::vector<std::string>> rows = {{"ID", "PATCH", "STATE", "STAGE", "APPLIED", "FAILED", "REASON"}};
    for (const auto& r : j["rollouts"])
      rows.push_back({str(r["id"]),
                      r.contains("fix") ? "fix " + str(r["fix"])
                                        : str(r["patch_name"]) + " #" + std::to_string(r["sequence"].get<std::int64_t>()),
                      str(r["state"]),
                      std::to_string(r["current_stage"].get<int>() + 1) + "/" + std::to_string(r["stages"].size()),
                      std::to_string(r["counts"]["applied"].get<std::int64_t>()),
                      std::to_string(r["counts"]["failed"].get<std::int64_t>()), str(r["halt_reason"])});
    table(ctx.out, rows);
    return ok_status();
  }
  if (sub == "promote" || sub == "halt" || sub == "resume" || sub == "approve") {
    if (a.positional.size() != 2) return Error(Errc::invalid_argument, "rollout " + sub + " needs a rollout ID");
    json body = json::object();
    if (auto r = a.value("reason")) body["reason"] = *r;
    NR_TRY(auto j, server_call(t, "POST", "/v1/rollouts/" + a.positional[1] + "/" + sub, body.dump()));
    if (a.flag("json")) return print_json(ctx, j);
    print_rollout(ctx, j);
    return ok_status();
  }
  return Error(Errc::invalid_argument,
               "unknown rollout subcommand '" + sub + "' (create, status, promote, halt, resume, approve)");
}

// noreboot-admin fix approve ID: starts the rollouts of a fix that await approval.
Status fix(const ParsedArgs& a, Context& ctx) {
  if (a.positional.size() != 2 || a.positional[0] != "approve")
    return Error(Errc::invalid_argument, "expected: fix approve FIX_ID");
  const std::string& id = a.positional[1];
  if (!valid_fix_id(id)) return Error(Errc::invalid_argument, "'" + id + "' is not a fix id (A-Z a-z 0-9 . _ + -)");
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "POST", "/v1/fixes/" + id + "/approve", "{}"));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << "approved fix " << id << ": its rollout starts now\n";
  for (const auto& r : j["rollouts"]) print_rollout(ctx, r);
  return ok_status();
}

Status pin(const ParsedArgs& a, Context& ctx) {
  if (a.positional.size() != 1) return Error(Errc::invalid_argument, "expected one GROUP");
  json body = {{"group", a.positional[0]}};
  if (auto b = a.value("bundle")) body["bundle_sha256"] = *b;
  if (auto u = a.value("until")) {
    NR_TRY(body["until"], whole_number(*u, "--until", "a Unix time in seconds, e.g. 1767225600"));
  }
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "POST", "/v1/pins", body.dump()));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << "group " << str(j["group"]) << " pinned"
          << (j["bundle_sha256"].get<std::string>().empty() ? "" : " to bundle " + str(j["bundle_sha256"]))
          << (j["until"].get<std::int64_t>() ? " until " + when(j["until"]) : "") << "\n";
  return ok_status();
}

Status unpin(const ParsedArgs& a, Context& ctx) {
  if (a.positional.size() != 1) return Error(Errc::invalid_argument, "expected one GROUP");
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "DELETE", "/v1/pins/" + a.positional[0]));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << "group " << a.positional[0] << " unpinned\n";
  return ok_status();
}

Status hosts(const ParsedArgs& a, Context& ctx) {
  NR_TRY(auto t, target(a));
  std::string q = "?limit=" + a.value("limit").value_or("1000");
  if (auto g = a.value("group")) q += "&group=" + *g;
  if (auto s = a.value("state")) q += "&state=" + *s;
  NR_TRY(auto j, server_call(t, "GET", "/v1/hosts" + q));
  if (a.flag("json")) return print_json(ctx, j);
  std::vector<std::vector<std::string>> rows = {{"HOST", "ID", "GROUP", "KERNEL", "STATE", "APPLIED", "LAST SEEN"}};
  for (const auto& h : j["hosts"])
    rows.push_back({str(h["hostname"]), str(h["id"]), str(h["group"]), str(h["kernel"]["release"]), str(h["state"]),
                    h["applied"].is_null() ? "-" : str(h["applied"]["name"]) + " #" + std::to_string(h["applied"]["sequence"].get<std::int64_t>()),
                    when(h["last_seen"].get<std::int64_t>())});
  table(ctx.out, rows);
  ctx.out << j["total"] << " hosts\n";
  return ok_status();
}

Status host(const ParsedArgs& a, Context& ctx) {
  if (!a.positional.empty() && a.positional[0] == "revoke") {
    // The host's credential stops working: its check-ins, reports and downloads get 401.
    if (a.positional.size() != 2) return Error(Errc::invalid_argument, "host revoke needs a host ID (h_...)");
    NR_TRY(auto t, target(a));
    NR_TRY(auto j, server_call(t, "DELETE", "/v1/hosts/" + a.positional[1]));
    if (a.flag("json")) return print_json(ctx, j);
    ctx.out << "revoked host " << a.positional[1] << ": its credential no longer works\n";
    return ok_status();
  }
  if (a.positional.size() != 1) return Error(Errc::invalid_argument, "expected one HOST_ID (or: revoke HOST_ID)");
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "GET", "/v1/hosts/" + a.positional[0]));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << str(j["hostname"]) << " (" << str(j["id"]) << "), group " << str(j["group"]) << "\n  kernel "
          << str(j["kernel"]["release"]) << " " << str(j["kernel"]["build_id"]) << "\n  state " << str(j["state"])
          << (j["applied"].is_null() ? "" : ", applied " + str(j["applied"]["name"]) + " #" + std::to_string(j["applied"]["sequence"].get<std::int64_t>()))
          << (j["last_error"].get<std::string>().empty() ? "" : "\n  last error: " + str(j["last_error"])) << "\n";
  std::vector<std::vector<std::string>> rows = {{"  TIME", "EVENT", "DETAIL"}};
  for (const auto& e : j["history"]) rows.push_back({"  " + when(e["time"]), str(e["kind"]), e["detail"].dump().substr(0, 120)});
  table(ctx.out, rows);
  return ok_status();
}

Status fleet(const ParsedArgs& a, Context& ctx) {
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "GET", "/v1/fleet"));
  if (a.flag("json")) return print_json(ctx, j);
  ctx.out << j["hosts"] << " hosts\n\nby state:\n";
  std::vector<std::vector<std::string>> rows;
  for (auto& [k, v] : j["by_state"].items()) rows.push_back({"  " + k, std::to_string(v.get<std::int64_t>())});
  table(ctx.out, rows);
  ctx.out << "\nby kernel:\n";
  rows = {};
  for (const auto& k : j["by_kernel"]) rows.push_back({"  " + str(k["release"]), str(k["build_id"]), std::to_string(k["hosts"].get<std::int64_t>())});
  table(ctx.out, rows);
  ctx.out << "\nfixes applied:\n";
  rows = {};
  for (const auto& k : j["fixes"])
    rows.push_back({"  " + str(k["patch_name"]) + " #" + std::to_string(k["sequence"].get<std::int64_t>()),
                    str(k["sha256"]).substr(0, 12), std::to_string(k["hosts"].get<std::int64_t>()) + " hosts"});
  table(ctx.out, rows);
  ctx.out << "\nstill exposed:\n";
  rows = {};
  for (const auto& k : j["exposed"])
    rows.push_back({"  " + str(k["release"]), "newest #" + std::to_string(k["latest_sequence"].get<std::int64_t>()),
                    std::to_string(k["hosts_behind"].get<std::int64_t>()) + " hosts behind"});
  table(ctx.out, rows);
  ctx.out << "\nrollouts: " << j["rollouts"]["running"] << " running, " << j["rollouts"]["halted"] << " halted, "
          << j["rollouts"]["completed"] << " completed"
          << (j["rollouts"].value("awaiting_approval", 0) > 0
                  ? ", " + std::to_string(j["rollouts"]["awaiting_approval"].get<int>()) + " awaiting approval"
                  : std::string())
          << "\n";
  return ok_status();
}

Status token(const ParsedArgs& a, Context& ctx) {
  if (a.positional.empty())
    return Error(Errc::invalid_argument, "expected: create-enrollment, create-admin, list, revoke ID");
  const std::string& sub = a.positional[0];
  std::string kind = a.flag("admin") || sub == "create-admin" ? "admin" : "enrollment";
  NR_TRY(auto t, target(a));
  if (sub == "create-enrollment" || sub == "create-admin") {
    json body = {{"name", a.value("name").value_or("")}};
    if (kind == "enrollment") {
      body["group"] = a.value("group").value_or("");
      body["tags"] = a.all("tag");
      if (auto ttl = a.value("ttl")) {
        NR_TRY(body["ttl_seconds"], whole_number(*ttl, "--ttl", "whole seconds"));
      }
      if (auto m = a.value("max-uses")) {
        NR_TRY(body["max_uses"], whole_number(*m, "--max-uses", "a whole number"));
      }
    } else {
      body["role"] = a.value("role").value_or("read");
    }
    NR_TRY(auto j, server_call(t, "POST", "/v1/tokens/" + kind, body.dump()));
    if (a.flag("json")) return print_json(ctx, j);
    ctx.out << str(j["token"]) << "\n";
    ctx.err << "token " << str(j["id"]) << " created (shown once; store it safely)\n";
    return ok_status();
  }
  if (sub == "list") {
    NR_TRY(auto j, server_call(t, "GET", "/v1/tokens/" + kind));
    if (a.flag("json")) return print_json(ctx, j);
    std::vector<std::vector<std::string>> rows = {{"ID", "NAME", kind == "admin" ? "ROLE" : "GROUP", "USES", "EXPIRES", "REVOKED"}};
    for (const auto& k : j["tokens"])
      rows.push_back({str(k["id"]), str(k["name"]), kind == "admin" ? str(k["role"]) : str(k["group"]),
                      std::to_string(k["uses"].get<std::int64_t>()) +
                          (k["max_uses"].get<std::int64_t>() ? "/" + std::to_string(k["max_uses"].get<std::int64_t>()) : ""),
                      when(k["expires_at"]), k["revoked"].get<bool>() ? "yes" : "no"});
    table(ctx.out, rows);
    return ok_status();
  }
  if (sub == "revoke") {
    if (a.positional.size() != 2) return Error(Errc::invalid_argument, "token revoke needs a token ID (t_...)");
    NR_TRY(auto j, server_call(t, "DELETE", "/v1/tokens/" + kind + "/" + a.positional[1]));
    if (a.flag("json")) return print_json(ctx, j);
    ctx.out << "revoked " << a.positional[1] << "\n";
    return ok_status();
  }
  return Error(Errc::invalid_argument, "unknown token subcommand '" + sub + "'");
}

Status audit(const ParsedArgs& a, Context& ctx) {
  NR_TRY(auto t, target(a));
  NR_TRY(auto j, server_call(t, "GET", "/v1/audit"));
  if (a.flag("json")) return print_json(ctx, j);
  std::vector<std::vector<std::string>> rows = {{"TIME", "ACTOR", "ACTION", "DETAIL"}};
  for (const auto& e : j["entries"]) rows.push_back({when(e["time"]), str(e["actor"]), str(e["action"]), e["detail"].dump().substr(0, 100)});
  table(ctx.out, rows);
  return ok_status();
}

}  // namespace

void register_server_commands(CommandTable& t) {
  std::string c = kCommonHelp;
  t.push_back({"publish", "upload a signed bundle, or a fix's bundles and its record, to the server",
               "usage: noreboot-admin publish [options] FILE.nrp\n"
               "       noreboot-admin publish [options] DIR\n\nUploads the bundle; the server checks its signature "
               "against its publisher keys and stores it by SHA-256.\nDIR (noreboot-build --kernel ... -o DIR): every "
               "DIR/*.nrp, then the signed fix record DIR/fix.json + fix.sig.\n" + c,
               with_common({}), publish});
  t.push_back({"fixes", "exposure per fix: hosts patched, exposed, already fixed, not built for",
               "usage: noreboot-admin fixes [FIX_ID]\n\nWithout FIX_ID: one line per fix. With it: its hosts per group "
               "and kernel, and the\nkernels its records name.\n" + c,
               with_common({}), fixes});
  t.push_back({"rollout", "create a rollout, show its status, promote, halt or resume it",
               "usage: noreboot-admin rollout create (--bundle SHA256 | --fix ID) [--stage PCT[:SOAK[:BUDGET]]]... [--group G]...\n"
               "                                      [--tag T]... [--window HH:MM-HH:MM]\n"
               "       noreboot-admin rollout status [ID]\n"
               "       noreboot-admin rollout promote|halt|resume|approve ID [--reason TEXT]\n\n"
               "Stages are cumulative percentages of the targeted hosts, each with a soak time in seconds and a\n"
               "failure budget (failed hosts tolerated); e.g. --stage 1:600:0 --stage 10:3600:2 --stage 100:0:10.\n"
               "--fix ID rolls out a fix on every kernel its records built a bundle for: one set of stages and one\n"
               "failure budget across kernels; a halt blocks all of its bundles, a resume unblocks them.\n"
               "--await-approval creates it offering nothing until approved (rollout approve ID, fix approve FIX_ID).\n" + c,
               with_common({{"bundle"}, {"fix"}, {"stage", 0, true, true}, {"group", 0, true, true}, {"tag", 0, true, true},
                            {"window"}, {"reason"}, {"await-approval", 0, false}}),
               rollout});
  t.push_back({"fix", "approve a fix whose rollout awaits approval (noreboot-feed with approve = \"manual\")",
               "usage: noreboot-admin fix approve FIX_ID\n\nStarts every rollout of FIX_ID created awaiting approval, at "
               "its first stage. The server's audit\nlog names the approving token. Approving twice is refused (exit 1, "
               "\"already approved\").\n" + c,
               with_common({}), fix});
  t.push_back({"pin", "hold a group at a bundle (--bundle) or freeze it until a time (--until)",
               "usage: noreboot-admin pin GROUP [--bundle SHA256] [--until UNIX_TIME]\n" + c,
               with_common({{"bundle"}, {"until"}}), pin});
  t.push_back({"unpin", "remove a group's pin", "usage: noreboot-admin unpin GROUP\n" + c, with_common({}), unpin});
  t.push_back({"hosts", "list enrolled hosts", "usage: noreboot-admin hosts [--group G] [--state S] [--limit N]\n" + c,
               with_common({{"group"}, {"state"}, {"limit"}}), hosts});
  t.push_back({"host", "one host with its history; revoke a host's credential",
               "usage: noreboot-admin host HOST_ID\n"
               "       noreboot-admin host revoke HOST_ID   (its check-ins get 401 from then on)\n" + c,
               with_common({}), host});
  t.push_back({"fleet", "fleet summary: states, kernels, fixes, exposure", "usage: noreboot-admin fleet\n" + c,
               with_common({}), fleet});
  t.push_back({"token", "enrollment and admin tokens",
               "usage: noreboot-admin token create-enrollment [--group G] [--tag T]... [--ttl SECONDS] [--max-uses N] [--name N]\n"
               "       noreboot-admin token create-admin --role admin|read [--name N]\n"
               "       noreboot-admin token list [--admin]\n"
               "       noreboot-admin token revoke ID [--admin]\n\nThe new token is printed once on stdout.\n" + c,
               with_common({{"group"}, {"tag", 0, true, true}, {"ttl"}, {"max-uses"}, {"name"}, {"role"}, {"admin", 0, false}}),
               token});
  t.push_back({"audit", "the server's audit log of admin actions", "usage: noreboot-admin audit\n" + c, with_common({}), audit});
}

}  // namespace noreboot::admin
