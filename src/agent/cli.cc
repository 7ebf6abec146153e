#include "agent/cli.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "agent/apply.h"
#include "agent/daemon.h"
#include "agent/fake_kernel.h"
#include "agent/fs_util.h"
#include "agent/real_kernel.h"
#include "agent/status.h"
#include "core/bundle.h"
#include "core/command_line.h"
#include "core/file_io.h"
#include "core/log.h"

namespace noreboot::agent {

namespace {

constexpr const char* kUsage =
    "usage: noreboot [--config FILE] [--state-dir DIR] [--root DIR] COMMAND [ARGS]\n"
    "commands:\n"
    "  apply [--trust KEY.pub]... [--json] FILE.nrp   verify and load a bundle (no server needed)\n"
    "  revert                                         disable and unload the applied patch\n"
    "  status [--json]                                kernel, applied patch, state, health\n"
    "  check                                          health as exit code: 0 ok, 1 warning, 2 critical, 3 unknown\n"
    "  enroll --token TOKEN [--server URL]            register this host with the server\n"
    "  agent [--once]                                 run the daemon (check in, apply, report)\n"
    "see docs/agent.md\n";

struct GlobalOptions {
  std::optional<std::filesystem::path> config;
  std::optional<std::filesystem::path> state_dir;
  std::optional<std::filesystem::path> root;
};

// What the command line asks for: the global options, one command and its arguments.
struct CommandLine {
  GlobalOptions global;
  std::string command;  // empty: none given
  bool help = false;
  std::vector<std::string> trust;  // apply
  std::string file;                // apply
  bool json = false;               // apply, status
  EnrollOptions enroll;
  DaemonOptions daemon;
};

Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine c;
  std::optional<std::string> config, state_dir, root;
  cli::App app;
  app.add_option("--config", config);
  app.add_option("--state-dir", state_dir);
  app.add_option("--root", root);
  auto* apply = app.add_subcommand("apply");
  apply->add_list("--trust", c.trust);
  apply->add_flag("--json", c.json);
  apply->add_option("FILE", c.file);
  app.add_subcommand("revert");
  app.add_subcommand("status")->add_flag("--json", c.json);
  app.add_subcommand("check");
  auto* enroll = app.add_subcommand("enroll");
  enroll->add_option("--token", c.enroll.token);
  enroll->add_option("--server", c.enroll.server);
  enroll->add_list("--tag", c.enroll.tags);
  enroll->add_option("--hostname", c.enroll.hostname);
  enroll->add_flag("--force", c.enroll.force);
  app.add_subcommand("agent")->add_flag("--once", c.daemon.once);

  auto parsed = cli::parse_command_line(app, args);
  c.command = app.chosen_subcommand();
  if (!parsed) return std::move(parsed).error().context(c.command.empty() ? "noreboot" : "noreboot: " + c.command);
  c.help = *parsed == cli::CommandLine::help;
  if (config) c.global.config = *config;
  if (state_dir) c.global.state_dir = *state_dir;
  if (root) c.global.root = *root;
  return c;
}

Outcome outcome_for(const Error& e) {
  switch (e.code()) {
    case Errc::invalid_argument: return Outcome::usage;
    case Errc::invalid_input:
    case Errc::signature:
    case Errc::integrity:
    case Errc::refused: return Outcome::refused;
    case Errc::timeout: return Outcome::reversed;
    default: return Outcome::failed;
  }
}

struct Runtime {
  AgentContext ctx;
  std::unique_ptr<KernelInterface> kernel;
};

// need_trust: apply and agent refuse to start with an unreadable trusted key; status and check
// only mention it (they must work on a host whose keys are not installed yet).
Result<std::unique_ptr<Runtime>> make_runtime(const GlobalOptions& g, std::ostream& err, bool need_trust = false) {
  auto rt = std::make_unique<Runtime>();
  std::filesystem::path root = g.root.value_or("/");
  std::filesystem::path config_path =
      g.config.value_or(g.root ? root / "etc/noreboot/agent.toml" : std::filesystem::path("/etc/noreboot/agent.toml"));
  auto config = load_config(config_path, /*must_exist=*/g.config.has_value());
  if (!config.ok()) return Error(Errc::invalid_argument, config.error().message());
  rt->ctx.config = *config;
  if (g.state_dir) rt->ctx.config.state_dir = *g.state_dir;
  else if (g.root && rt->ctx.config.state_dir == "/var/lib/noreboot") rt->ctx.config.state_dir = root / "var/lib/noreboot";
  rt->ctx.root = root;
  if (g.root) rt->kernel = std::make_unique<FakeKernel>(root);
  else rt->kernel = std::make_unique<RealKernel>();
  rt->ctx.kernel = rt->kernel.get();
  rt->ctx.store = StateStore(rt->ctx.config.state_dir);
  for (const auto& k : rt->ctx.config.trusted_keys) {
    Status s = rt->ctx.trust.add_path(k);
    if (s.ok()) continue;
    Error e = Error(Errc::invalid_argument, s.error().message()).context("trusted_keys in " + config_path.string());
    if (need_trust) return e;
    err << "noreboot: warning: " << e.message() << "\n";
  }
  rt->ctx.progress = [&err](const std::string& line) { err << "noreboot: " << line << "\n"; };
  return rt;
}

Outcome fail(std::ostream& err, const Error& e, Outcome o) {
  err << "noreboot: " << e.message() << "\n";
  return o;
}

Outcome cmd_apply(const CommandLine& c, std::ostream& out, std::ostream& err) {
  const GlobalOptions& g = c.global;
  if (c.file.empty())
    return fail(err, Error(Errc::invalid_argument, std::string("apply: which bundle? (FILE.nrp)\n") + kUsage),
                Outcome::usage);
  std::filesystem::path file = c.file;
  auto rt = make_runtime(g, err, true);
  if (!rt.ok()) return fail(err, rt.error(), Outcome::usage);
  AgentContext& ctx = (*rt)->ctx;
  for (const auto& t : c.trust)
    if (Status s = ctx.trust.add_path(t); !s.ok()) return fail(err, s.error().context("--trust"), Outcome::usage);
  if (Status s = ctx.store.init(); !s.ok()) return fail(err, s.error(), Outcome::failed);
  auto lock = acquire_state_lock(ctx.store.dir(), true);
  if (!lock.ok()) return fail(err, lock.error(), Outcome::failed);
  if (auto d = reconcile_at_start(ctx); !d.ok()) return fail(err, d.error(), Outcome::failed);
  auto bytes = noreboot::read_file(file, BundleLimits{}.archive_max());
  if (!bytes.ok()) return fail(err, bytes.error().context("bundle"), Outcome::refused);
  ApplyOptions opt;
  opt.origin = "bundle " + file.string();
  auto report = apply_bundle(ctx, *bytes, opt);
  if (!report.ok()) return fail(err, report.error(), outcome_for(report.error()));
  if (c.json) {
    nlohmann::json j = {{"patch", report->manifest.name},
                        {"sequence", report->manifest.sequence},
                        {"bundle_sha256", report->bundle_sha256},
                        {"already_live", report->already_live},
                        {"transition", transition_result_name(report->transition.result)},
                        {"transition_seconds", report->transition.seconds},
                        {"prep_ms", report->prep_ms},
                        {"load_ms", report->load_ms},
                        {"kernel_warnings", report->kernel_warnings}};
    j["blocked"] = nlohmann::json::array();
    for (const auto& t : report->transition.blocked) j["blocked"].push_back(to_json(t));
    out << j.dump() << "\n";
  } else {
    out << report->summary << "\n";
    for (const auto& w : report->kernel_warnings) out << "kernel log after the load: " << w << "\n";
  }
  return Outcome::ok;
}

Outcome cmd_revert(const GlobalOptions& g, std::ostream& out, std::ostream& err) {
  auto rt = make_runtime(g, err);
  if (!rt.ok()) return fail(err, rt.error(), Outcome::usage);
  AgentContext& ctx = (*rt)->ctx;
  if (Status s = ctx.store.init(); !s.ok()) return fail(err, s.error(), Outcome::failed);
  auto lock = acquire_state_lock(ctx.store.dir(), true);
  if (!lock.ok()) return fail(err, lock.error(), Outcome::failed);
  if (auto d = reconcile_at_start(ctx); !d.ok()) return fail(err, d.error(), Outcome::failed);
  auto r = revert_applied(ctx);
  if (!r.ok()) {
    if (r.error().code() == Errc::not_found) {
      out << r.error().message() << "\n";
      return Outcome::ok;
    }
    return fail(err, r.error(), Outcome::failed);
  }
  out << r->summary << "\n";
  return Outcome::ok;
}

Outcome cmd_status(const GlobalOptions& g, bool json, bool check, std::ostream& out, std::ostream& err) {
  auto rt = make_runtime(g, err);
  if (!rt.ok()) return fail(err, rt.error(), check ? Outcome::unknown : Outcome::usage);
  AgentContext& ctx = (*rt)->ctx;
  // Reconcile only when nobody else is working on the state right now.
  if (ctx.store.init().ok()) {
    if (auto lock = acquire_state_lock(ctx.store.dir(), false); lock.ok()) (void)reconcile_at_start(ctx);
  }
  auto r = collect_status(ctx);
  if (!r.ok()) {
    if (check) out << "UNKNOWN: " << r.error().message() << "\n";
    return fail(err, r.error(), check ? Outcome::unknown : Outcome::failed);
  }
  if (check) {
    std::string name(health_name(r->health));
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out << "NOREBOOT " << name << ": "
        << (r->state.applied ? r->state.applied->patch_name + " sequence " + std::to_string(r->state.applied->sequence) +
                                   (r->applied_loaded ? " live" : " not loaded")
                             : std::string("no patch applied"))
        << "\n";
    for (const auto& why : r->reasons) out << why << "\n";
    switch (r->health) {
      case Health::ok: return Outcome::ok;
      case Health::warning: return Outcome::warning;
      case Health::critical: return Outcome::critical;
      case Health::unknown: return Outcome::unknown;
    }
  }
  if (json) out << status_json(*r).dump(2) << "\n";
  else out << status_text(*r);
  return Outcome::ok;
}

Outcome cmd_enroll(const GlobalOptions& g, const EnrollOptions& o, std::ostream& out, std::ostream& err) {
  auto rt = make_runtime(g, err);
  if (!rt.ok()) return fail(err, rt.error(), Outcome::usage);
  auto c = enroll((*rt)->ctx, o);
  if (!c.ok()) return fail(err, c.error(), c.error().code() == Errc::invalid_argument ? Outcome::usage : Outcome::failed);
  out << "enrolled as " << c->host_id << " with " << c->server << (c->group.empty() ? "" : " (group " + c->group + ")")
      << "\n";
  return Outcome::ok;
}

Outcome cmd_agent(const GlobalOptions& g, DaemonOptions o, std::ostream& err) {
  auto rt = make_runtime(g, err, true);
  if (!rt.ok()) return fail(err, rt.error(), Outcome::usage);
  log::configure(log::LogConfig{log::Level::info, log::Format::text, "agent"});
  std::atomic<bool> stop{false};
  o.wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // -1 on failure: the daemon polls `stop`
  Status s = ok_status();
  {
    SignalWatcher watcher(stop, o.wake_fd);
    s = run_daemon((*rt)->ctx, o, stop);
  }
  if (o.wake_fd >= 0) ::close(o.wake_fd);
  if (!s.ok()) return fail(err, s.error(), Outcome::failed);
  return Outcome::ok;
}

}  // namespace

Outcome run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && args[0] == "help") {
    out << kUsage;
    return Outcome::ok;
  }
  auto parsed = parse_command_line(args);
  if (!parsed) {
    err << parsed.error().message() << "\n" << kUsage;
    return Outcome::usage;
  }
  const CommandLine& c = *parsed;
  // `noreboot [COMMAND] --help` shows the usage (every command is one line of it) and does nothing.
  if (c.help) {
    out << kUsage;
    return Outcome::ok;
  }
  const GlobalOptions& g = c.global;
  if (c.command == "apply") return cmd_apply(c, out, err);
  if (c.command == "revert") return cmd_revert(g, out, err);
  if (c.command == "status") return cmd_status(g, c.json, false, out, err);
  if (c.command == "check") return cmd_status(g, false, true, out, err);
  if (c.command == "enroll") return cmd_enroll(g, c.enroll, out, err);
  if (c.command == "agent") return cmd_agent(g, c.daemon, err);
  err << kUsage;
  return Outcome::usage;
}

}  // namespace noreboot::agent
