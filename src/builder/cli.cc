#include "builder/cli.h"

#include <charconv>
#include <iostream>

#include "builder/build.h"
#include "builder/cache.h"
#include "builder/fix_record_out.h"
#include "builder/header_index_build.h"
#include "builder/kernels.h"
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

Result<BuildConfig> parse_args(const std::vector<std::string>& args, size_t from, bool& help) {
  BuildConfig c;
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* what) -> Result<std::string> {
      if (i + 1 >= args.size()) return Error(Errc::invalid_argument, a + " needs " + what);
      return args[++i];
    };
    if (a == "-h" || a == "--help") { help = true; return c; }
    if (a == "--kernel") {
      NR_TRY(auto v, value("debian:ABI, debian:current or debian:all"));
      c.kernels.push_back(v);
      if (c.kernel.empty()) c.kernel = v;
    }
    else if (a == "--on-top-of") { NR_TRY(auto v, value("an earlier bundle or a folder of them")); c.on_top_of.push_back(v); }
    else if (a == "--tree") { NR_TRY(auto v, value("a prepared kernel tree")); c.tree = v; }
    else if (a == "--patch") { NR_TRY(auto v, value("a patch file")); c.patch = v; }
    else if (a == "-o" || a == "--output") { NR_TRY(auto v, value("an output file")); c.output = v; }
    else if (a == "--key") { NR_TRY(auto v, value("a secret key file")); c.key = v; }
    else if (a == "--keep-work" || a == "--work") { NR_TRY(auto v, value("a folder")); c.keep_work = v; }
    else if (a == "--name") { NR_TRY(c.name, value("a module name")); }
    else if (a == "--module-sign-key") { NR_TRY(auto v, value("a PEM private key")); c.module_sign_key = v; }
    else if (a == "--module-sign-cert") { NR_TRY(auto v, value("a PEM X.509 certificate")); c.module_sign_cert = v; }
    else if (a == "--fix") {
      NR_TRY(auto v, value("ID:text"));
      if (v.find(':') == std::string::npos)
        return Error(Errc::invalid_argument, "--fix '" + v + "': expected ID:text, e.g. CVE-2024-1234:fix the race in foo");
      c.fixes.push_back(v);
    } else if (a == "--sequence" || a == "--jobs" || a == "--header-unit-limit") {
      NR_TRY(auto v, value("a number"));
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || (a == "--jobs" && (n == 0 || n > 64)))
        return Error(Errc::invalid_argument, a + " '" + v + "' is not a valid number");
      if (a == "--sequence") c.sequence = n;
      else if (a == "--header-unit-limit") c.header_unit_limit = n;
      else c.jobs = static_cast<int>(n);
    } else {
      return Error(Errc::invalid_argument, "unknown argument '" + a + "' (see --help)");
    }
  }
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
  return c;
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
  if (cmd == "header-index" && args.size() >= 3 && args[1] == "--elf") {
    std::string owner = args.size() >= 5 && args[3] == "--owner" ? args[4] : "vmlinux";
    NR_TRY(auto stats, index_elf_file(args[2], owner, std::cout));
    log::info("[header-index] {}: {} units, {} header functions, {} line runs in {:.1f} s", args[2], stats.units,
              stats.functions, stats.runs, stats.seconds);
    return CliOutcome::ok;
  }
  bool help = false;
  size_t from = (cmd == "prepare" || cmd == "compile" || cmd == "header-index") ? 1 : 0;
  NR_TRY(auto config, parse_args(args, from, help));
  if (help) {
    std::cout << kUsage;
    return CliOutcome::ok;
  }
  if (cmd == "prepare" && is_many_kernels(config)) {
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
  if (cmd == "header-index") {
    StepClock clock;
    NR_TRY(auto profile, resolve_profile(config, clock));
    NR_TRY(auto index, ensure_header_index(profile));
    std::cout << index.string() << "\n";
    return CliOutcome::ok;
  }
  if (cmd == "prepare") {
    StepClock clock;
    NR_TRY(auto profile, resolve_profile(config, clock));
    std::cout << "NR_ABI=" << profile.abi << "\nNR_TREE=" << profile.tree.string() << "\n";
    return CliOutcome::ok;
  }
  if (!config.on_top_of.empty()) {
    NR_TRY(config.baselines, load_baselines(config.on_top_of, config.key));
  }
  if (cmd != "compile" && is_many_kernels(config)) {
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
  if (cmd == "compile") {
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
