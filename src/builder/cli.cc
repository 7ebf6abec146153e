#include "builder/cli.h"

#include <iostream>

#include "builder/build.h"
#include "builder/cache.h"
#include "builder/fix_record_out.h"
#include "builder/header_index_build.h"
#include "builder/kernels.h"
#include "core/command_line.h"
#include "core/log.h"
#include "core/manifest.h"

#include "diff/cli.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

const char* const kUsage =
    "usage:\n"
    "  noreboot-build --kernel debian:ABI|debian:current --patch FIX.patch -o OUT.nrp\n"
    "                 [--key KEY] [--sequence N] [--fix CVE-ID:text]... [--name NAME]\n"
    "                 [--on-top-of BUNDLE|DIR]... [--keep-work DIR] [--jobs N] [--header-unit-limit N]\n"
    "  noreboot-build --kernel K [--kernel K]... --patch FIX.patch -o DIR [...]   one bundle per kernel\n"
    "                 K: debian:ABI, debian:current, debian:all (every ABI of the series the archive serves)\n"
    "                 [--module-sign-key KEY.pem --module-sign-cert CERT.pem]  (PKCS#7, for Secure Boot hosts)\n"
    "  noreboot-build --tree DIR [--kernel debian:ABI] --patch FIX.patch -o OUT.nrp [...]\n"
    "                 (with --kernel: compile in DIR, target Debian's ABI: image, symbols, modules)\n"
    "  noreboot-build prepare --kernel debian:ABI|debian:current | --tree DIR\n"
    "  noreboot-build compile (--kernel K | --tree DIR) --patch FIX.patch --work DIR\n"
    "  noreboot-build diff ORIG.o PATCHED.o [--json]\n"
    "  noreboot-build cache [list | prune [--keep ABI]... [--trees]]\n"
    "  noreboot-build header-index --kernel debian:ABI   (builds the kernel's header index once; prints its path)\n"
    "  noreboot-build header-index --elf FILE [--owner NAME]   (one ELF file's index, on stdout)\n"
    "exit codes: 0 done, 1 error, 2 usage, 3 refused (reasons on stderr), 4 nothing to patch (the fix\n"
    "changes nothing, or this kernel's source already contains it). Several kernels: 0 when each is\n"
    "built or already fixed, 3 when one refused the fix or it does not apply, 1 when one failed.\n";

namespace {

// Several bundles: more than one --kernel, a pattern (debian:all), or -o naming a folder.
bool is_many_kernels(const BuildConfig& c) {
  if (c.kernels.size() > 1) return true;
  for (const auto& k : c.kernels)
    if (k == "debian:all" || k.find('*') != std::string::npos) return true;
  std::error_code ec;
  return !c.kernels.empty() && (std::filesystem::is_directory(c.output, ec) || c.output.string().ends_with("/"));
}

}  // namespace

// The options are the same for a build and for prepare, compile and header-index (they take
// what they need). A path is read as a string first: CLI11 would take std::filesystem::path
// for a list of characters.
Result<BuildCommandLine> parse_build_command_line(const std::vector<std::string>& args) {
  BuildCommandLine line;
  BuildConfig& c = line.config;
  std::string tree, patch, output, key, keep_work, module_sign_key, module_sign_cert;
  std::vector<std::string> on_top_of;
  std::optional<uint64_t> sequence, jobs, header_unit_limit;
  cli::App app;
  app.add_list("--kernel", c.kernels)->type_name("debian:ABI, debian:current or debian:all");
  app.add_list("--on-top-of", on_top_of)->type_name("an earlier bundle or a folder of them");
  app.add_option("--tree", tree)->type_name("a prepared kernel tree");
  app.add_option("--patch", patch)->type_name("a patch file");
  app.add_option("-o,--output", output)->type_name("an output file");
  app.add_option("--key", key)->type_name("a secret key file");
  app.add_option("--keep-work,--work", keep_work)->type_name("a folder");
  app.add_option("--name", c.name)->type_name("a module name");
  app.add_option("--module-sign-key", module_sign_key)->type_name("a PEM private key");
  app.add_option("--module-sign-cert", module_sign_cert)->type_name("a PEM X.509 certificate");
  app.add_list("--fix", c.fixes)->type_name("ID:text");
  app.add_number("--sequence", sequence)->type_name("a number");
  app.add_number("--jobs", jobs)->type_name("a number");
  app.add_number("--header-unit-limit", header_unit_limit)->type_name("a number");
  for (const char* command : {"prepare", "compile"}) app.add_subcommand(command)->fallthrough();
  auto* header_index = app.add_subcommand("header-index")->fallthrough();
  header_index->add_option("--elf", line.elf)->type_name("an ELF file");
  header_index->add_option("--owner", line.owner)->type_name("a module name");
  NR_TRY(auto parsed, cli::parse_command_line(app, args));
  if (parsed == cli::CommandLine::help) {
    line.help = true;
    return line;
  }
  line.command = app.chosen_subcommand();
  if (!c.kernels.empty()) c.kernel = c.kernels.front();
  c.on_top_of.assign(on_top_of.begin(), on_top_of.end());
  c.tree = tree;
  c.patch = patch;
  c.output = output;
  c.key = key;
  c.keep_work = keep_work;
  c.module_sign_key = module_sign_key;
  c.module_sign_cert = module_sign_cert;
  c.sequence = sequence;
  if (header_unit_limit) c.header_unit_limit = static_cast<size_t>(*header_unit_limit);
  if (jobs) {
    if (*jobs == 0 || *jobs > 64)
      return Error(Errc::invalid_argument, "--jobs '" + std::to_string(*jobs) + "' is not a valid number (1 to 64)");
    c.jobs = static_cast<int>(*jobs);
  }
  for (const auto& v : c.fixes)
    if (v.find(':') == std::string::npos)
      return Error(Errc::invalid_argument, "--fix '" + v + "': expected ID:text, e.g. CVE-2024-1234:fix the race in foo");
  if (c.module_sign_key.empty() != c.module_sign_cert.empty())
    return Error(Errc::invalid_argument, "--module-sign-key and --module-sign-cert go together (the kernel's sign-file needs both)");
  for (const auto& f : {c.module_sign_key, c.module_sign_cert})
    if (!f.empty() && !std::filesystem::exists(f))
      return Error(Errc::invalid_argument, f.string() + " does not exist");
  if (!c.tree.empty() && c.kernels.size() > 1)
    return Error(Errc::invalid_argument, "--tree compiles in one tree: give it with one --kernel at most");
  for (const auto& p : c.on_top_of)
    if (!std::filesystem::exists(p)) return Error(Errc::invalid_argument, "--on-top-of " + p.string() + " does not exist");
  if (!c.name.empty() && !valid_module_name(c.name))
    return Error(Errc::invalid_argument, "--name '" + c.name + "': use 1-55 letters, digits and '_' only (it becomes a module name)");
  return line;
}

namespace {

// `noreboot-build cache [list | prune [--keep ABI]... [--trees] [--all]]` (cache.h).
Result<CliOutcome> run_cache_command(const std::vector<std::string>& args) {
  CachePrune what;
  cli::App app;
  app.add_subcommand("list");
  auto* prune = app.add_subcommand("prune");
  prune->add_list("--keep", what.keep)->type_name("an ABI");
  prune->add_flag("--trees", what.trees_only);
  prune->add_flag("--all", what.everything);
  auto parsed = cli::parse_command_line(app, args);
  if (!parsed) return std::move(parsed).error().context(prune->parsed() ? "cache prune" : "cache");
  if (*parsed == cli::CommandLine::help) {
    std::cout << cache_usage();
    return CliOutcome::ok;
  }
  return prune->parsed() ? cache_prune(what) : cache_list();
}

void print_refusals(const std::vector<Refusal>& refusals) {
  for (const auto& r : refusals) std::cerr << format_refusal(r) << "\n";
  std::cerr << refusals.size() << " change(s) refused; nothing was written\n";
}

}  // namespace

Result<CliOutcome> run_cli(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kUsage;
    return CliOutcome::usage;
  }
  const std::string& cmd = args[0];
  if (cmd == "diff") {
    // The differ prints its own report and answers with its exit code (the same scheme).
    switch (noreboot::diff::run_cli(std::vector<std::string>(args.begin() + 1, args.end()))) {
      case 0: return CliOutcome::ok;
      case 2: return CliOutcome::usage;
      case 3: return CliOutcome::refused;
      case 4: return CliOutcome::no_change;
      default: return CliOutcome::failed;
    }
  }
  if (cmd == "cache") return run_cache_command(std::vector<std::string>(args.begin() + 1, args.end()));
  NR_TRY(auto line, parse_build_command_line(args));
  if (line.help) {
    std::cout << kUsage;
    return CliOutcome::ok;
  }
  BuildConfig& config = line.config;
  const std::string& command = line.command;
  if (command == "header-index" && !line.elf.empty()) {
    NR_TRY(auto stats, index_elf_file(line.elf, line.owner, std::cout));
    log::info("[header-index] {}: {} units, {} header functions, {} line runs in {:.1f} s", line.elf, stats.units,
              stats.functions, stats.runs, stats.seconds);
    return CliOutcome::ok;
  }
  if (command == "prepare" && is_many_kernels(config)) {
    NR_TRY(auto targets, resolve_kernels(config.kernels, config.kernel_fetch));
    bool all_ok = true;
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto& t = targets[i];
      log::info("[kernel {}/{}] {} ({})", i + 1, targets.size(), t.abi, t.version);
      if (!t.complete) {
        std::cout << t.abi << " unavailable: missing " << t.missing << "\n";
        all_ok &= t.from_pattern;
        continue;
      }
      BuildConfig one = config;
      one.kernel = "debian:" + t.abi;
      StepClock clock;
      auto profile = resolve_profile(one, clock);
      if (!profile.ok()) {
        std::cout << t.abi << " failed: " << profile.error().message() << "\n";
        all_ok = false;
        continue;
      }
      std::cout << t.abi << " prepared: " << profile->tree.string() << "\n";
    }
    return all_ok ? CliOutcome::ok : CliOutcome::failed;
  }
  if (command == "header-index") {
    StepClock clock;
    NR_TRY(auto profile, resolve_profile(config, clock));
    NR_TRY(auto index, ensure_header_index(profile));
    std::cout << index.string() << "\n";
    return CliOutcome::ok;
  }
  if (command == "prepare") {
    StepClock clock;
    NR_TRY(auto profile, resolve_profile(config, clock));
    std::cout << "NR_ABI=" << profile.abi << "\nNR_TREE=" << profile.tree.string() << "\n";
    return CliOutcome::ok;
  }
  if (!config.on_top_of.empty()) {
    NR_TRY(config.baselines, load_baselines(config.on_top_of, config.key));
  }
  if (command != "compile" && is_many_kernels(config)) {
    NR_TRY(auto reports, run_kernels(config));
    NR_TRY_STATUS(write_kernel_summary(config.output, config, reports));
    auto record_note = write_build_fix_record(config.output, config, reports);
    std::cerr << "\nsummary (" << (config.output / "summary.json").string() << "):\n" << format_kernel_summary(reports)
              << (record_note.ok() ? *record_note + "\n" : "");
    if (!record_note.ok()) return std::move(record_note).error().context("the fix record");
    for (const auto& r : reports)
      if (!r.refusals.empty()) {
        std::cerr << r.target.abi << ":\n";
        for (const auto& f : r.refusals) std::cerr << format_refusal(f) << "\n";
      }
    for (const auto& r : reports)
      if (!r.bundle.empty()) std::cout << r.bundle.string() << "\n";
    switch (kernels_exit_code(reports)) {
      case 0: return CliOutcome::ok;
      case 3: return CliOutcome::refused;
      default: return CliOutcome::failed;
    }
  }
  if (command == "compile") {
    if (config.keep_work.empty()) return Error(Errc::invalid_argument, "compile needs --work DIR (where the objects go)");
    config.stop = BuildConfig::Stop::compile;
  }
  NR_TRY(auto result, run_build(config));
  std::error_code ec;
  auto cleanup = [&] {
    if (config.keep_work.empty() && !result.work.empty()) fs::remove_all(result.work, ec);
  };
  if (!result.clock.steps().empty()) std::cerr << "timings:\n" << result.clock.summary();
  switch (result.outcome) {
    case Outcome::refused:
      print_refusals(result.refusals);
      cleanup();
      return CliOutcome::refused;
    case Outcome::no_change:
      std::cerr << "the fix changes no object: nothing to patch\n";
      cleanup();
      return CliOutcome::no_change;
    case Outcome::already_fixed:
      std::cerr << "already fixed: the source of " << result.abi << " (" << result.version
                << ") already contains this fix; nothing to patch, nothing written\n";
      cleanup();
      return CliOutcome::no_change;
    case Outcome::does_not_apply:
      cleanup();
      return Error(Errc::invalid_input, "the fix " + config.patch.string() + " does not apply to the source of " +
                                            result.abi + " (" + result.version + "):\n" + result.detail +
                                            "  make the patch against Debian's linux-source of this kernel (a backport)");
    case Outcome::unavailable:
      cleanup();
      return Error(Errc::unavailable, result.detail);
    case Outcome::built:
      break;
  }
  if (!result.bundle.empty()) {
    std::cout << result.bundle << "\n";
    cleanup();
    return CliOutcome::ok;
  }
  for (const auto& u : result.units)
    std::cout << u.unit.owner << " " << u.original.string() << " " << u.patched.string()
              << (u.identical ? " unchanged" : " changed") << "\n";
  cleanup();
  return CliOutcome::ok;
}

int exit_code_for(const Result<CliOutcome>& r) {
  if (!r.ok()) {
    switch (r.error().code()) {
      case Errc::invalid_argument: return 2;
      case Errc::unsupported: return 3;
      default: return 1;
    }
  }
  switch (r.value()) {
    case CliOutcome::ok: return 0;
    case CliOutcome::refused: return 3;
    case CliOutcome::no_change: return 4;
    case CliOutcome::usage: return 2;
    case CliOutcome::failed: return 1;
  }
  return 1;
}

}  // namespace noreboot::builder
