#include "builder/kernels.h"

#include <unistd.h>

#include <cctype>
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/file_lock.h"
#include "builder/fix_apply.h"
#include "core/process.h"
#include "core/file_io.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

fs::path fetch_script(const BuildConfig& config) {
  return config.kernel_fetch.empty() ? find_kernel_fetch() : config.kernel_fetch;
}

// "6.1.0-56-amd64 6.1.192-2 complete" / "... incomplete missing: a=v b=v"
Result<std::vector<KernelTarget>> list_kernels(const fs::path& fetch, const std::string& pattern) {
  NR_TRY(auto r, run_process({fetch.string(), "--list", pattern}, {.capture_stdout = true}));
  if (r.exit_code == 3) return std::vector<KernelTarget>{};
  if (r.exit_code != 0)
    return Error(Errc::unavailable, fetch.string() + " --list " + pattern + " failed (exit " +
                                        std::to_string(r.exit_code) + "); its message is above");
  std::vector<KernelTarget> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    KernelTarget t;
    std::string state;
    words >> t.abi >> t.version >> state;
    if (t.abi.empty() || t.version.empty()) continue;
    t.complete = state == "complete";
    if (!t.complete) {
      auto pos = line.find("missing: ");
      t.missing = pos == std::string::npos ? "?" : line.substr(pos + 9);
    }
    out.push_back(std::move(t));
  }
  return out;
}

// The touched files of ABI's exact source, for the probe: the prepared tree when it is the
// right one, else files extracted from the linux-source package into KDIR/source-VERSION/
// (once per file; extraction reads the whole package, 15-30 s).
Result<fs::path> source_for_probe(const BuildConfig& config, const KernelTarget& t,
                                  const std::vector<FileChange>& files) {
  fs::path kdir = cache_root() / "kernels" / t.abi;
  auto stamp = read_text(kdir / "tree.done");
  if (stamp.ok() && stamp.value() == tree_stamp(t.abi, t.version)) return kdir / "tree";

  fs::path dir = kdir / ("source-" + t.version);
  std::vector<std::string> want;
  for (const auto& f : files)
    if (f.kind != ChangeKind::added && !fs::exists(dir / f.old_path) && !fs::exists(dir / (f.old_path + ".absent")))
      want.push_back(f.old_path);
  if (want.empty()) return dir;

  fs::path fetch = fetch_script(config);
  NR_TRY(auto r, run_process({fetch.string(), "--abi", t.abi, "--source-only"}, {.capture_stdout = true}));
  if (r.exit_code != 0)
    return Error(Errc::unavailable, fetch.string() + " --abi " + t.abi + " --source-only failed (exit " +
                                        std::to_string(r.exit_code) + ")");
  std::string deb;
  {
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("NR_SOURCE_DEB=", 0) == 0) deb = line.substr(14);
  }
  if (deb.empty()) return Error(Errc::internal, fetch.string() + " printed no NR_SOURCE_DEB");

  std::error_code ec;
  fs::create_directories(kdir, ec);
  NR_TRY(auto lock, FileLock::acquire(kdir / ".source-files.lock",
                                      {.holder = "noreboot-build", .why = "extracting source files"}));
  NR_TRY(auto tarball, source_tarball_in(deb));
  std::string top = fs::path(tarball).stem().stem().string();  // linux-source-6.1
  fs::path tmp = kdir / ("source-" + t.version + ".tmp");
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  std::string members;
  for (const auto& w : want) members += " " + shell_quote(top + "/" + w);
  log::info("[probe] {}: extracting {} file(s) from {}", t.abi, want.size(), fs::path(deb).filename().string());
  // tar exits 2 when a member is missing (a file the fix modifies but this kernel lacks): the
  // others are extracted all the same, and the missing one is recorded as absent.
  std::string script = "dpkg-deb --fsys-tarfile " + shell_quote(deb) + " | tar -xO " + shell_quote(tarball) +
                       " | tar -xJ --strip-components=1 -C " + shell_quote(tmp.string()) + members;
  NR_TRY(auto x, run_process({"bash", "-c", script}, {.log = tmp.string() + ".log"}));
  (void)x;
  for (const auto& w : want) {
    fs::path got = tmp / w, to = dir / w;
    fs::create_directories(to.parent_path(), ec);
    if (fs::exists(got)) fs::rename(got, to, ec);
    else (void)write_text(dir / (w + ".absent"), "");
    if (ec) return Error(Errc::io, "cannot move " + got.string() + " to " + to.string() + ": " + ec.message());
  }
  fs::remove_all(tmp, ec);
  fs::remove(tmp.string() + ".log", ec);
  return dir;
}

std::string kernel_label(const KernelTarget& t) { return t.abi + " (" + t.version + ")"; }

}  // namespace

Result<std::vector<KernelTarget>> resolve_kernels(const std::vector<std::string>& specs, const fs::path& kernel_fetch) {
  // One kernel-fetch call for every spec (apt-cache costs seconds per call), then each spec
  // must have matched something.
  std::vector<std::string> patterns;
  std::string joined;
  for (const auto& spec : specs) {
    const std::string prefix = "debian:";
    std::string what = spec.rfind(prefix, 0) == 0 ? spec.substr(prefix.size()) : "";
    bool valid = !what.empty();
    for (char c : what) valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == '*';
    if (!valid)
      return Error(Errc::invalid_argument, "--kernel '" + spec +
                                               "': expected debian:ABI (e.g. debian:6.1.0-56-amd64), debian:current or debian:all");
    patterns.push_back(what == "all" ? "default" : what);
    joined += (joined.empty() ? "" : "|") + patterns.back();
  }
  fs::path fetch = kernel_fetch.empty() ? find_kernel_fetch() : kernel_fetch;
  NR_TRY(auto listed, list_kernels(fetch, joined));
  std::set<std::string> explicit_abis;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& p = patterns[i];
    bool pattern = p == "default" || p.find('*') != std::string::npos;
    if (!pattern && p != "current") {
      bool found = false;
      for (const auto& t : listed) found |= t.abi == p;
      if (!found)
        return Error(Errc::invalid_argument, "--kernel " + specs[i] + ": Debian's archive serves no such kernel "
                                             "(scripts/kernel-fetch --list shows the ones it serves)");
      explicit_abis.insert(p);
    }
    if (p == "current") explicit_abis.insert("current");
  }
  if (listed.empty()) return Error(Errc::invalid_argument, "--kernel: Debian's archive serves no such kernel");
  // `current` is the newest complete ABI of the default series only when asked by name; the
  // list says which one it is only implicitly, so ask for it alone when it was named.
  if (explicit_abis.count("current")) {
    NR_TRY(auto cur, list_kernels(fetch, "current"));
    for (const auto& t : cur) explicit_abis.insert(t.abi);
  }
  for (auto& t : listed) t.from_pattern = !explicit_abis.count(t.abi);
  return listed;
}

Result<std::vector<KernelReport>> run_kernels(const BuildConfig& config) {
  if (config.output.empty()) return Error(Errc::invalid_argument, "no output folder given: -o DIR (one bundle per kernel)");
  if (config.output.extension() == ".nrp")
    return Error(Errc::invalid_argument, "-o " + config.output.string() +
                                             ": several kernels give several bundles; name a folder (-o DIR)");
  std::error_code ec;
  fs::create_directories(config.output, ec);
  if (ec) return Error(Errc::io, "-o " + config.output.string() + ": " + ec.message());

  // The fix is read and classified once, before anything is downloaded.
  NR_TRY(auto text, read_text(config.patch));
  NR_TRY(auto patch, parse_patch(text, config.patch.string()));
  NR_TRY(auto targets, resolve_kernels(config.kernels, config.kernel_fetch));
  log::info("[kernels] {} kernel(s): {}", targets.size(), [&] {
    std::string s;
    for (const auto& t : targets) s += (s.empty() ? "" : ", ") + t.abi;
    return s;
  }());

  // One sequence for the whole fix (the current time, above every earlier patch), so the
  // bundles of one build say the same on every kernel.
  BuildConfig base = config;
  if (!base.sequence) {
    std::uint64_t seq = static_cast<std::uint64_t>(std::time(nullptr));
    for (const auto& [abi, b] : config.baselines) seq = std::max(seq, b.manifest.sequence + 1);
    base.sequence = seq;
    log::info("[kernels] sequence {} for every bundle of this fix", seq);
  }

  std::vector<KernelReport> reports;
  for (size_t i = 0; i < targets.size(); ++i) {
    const KernelTarget& t = targets[i];
    Stopwatch watch;
    KernelReport rep;
    rep.target = t;
    std::string tag = "[kernel " + std::to_string(i + 1) + "/" + std::to_string(targets.size()) + "] ";
    log::info("{}{}", tag, kernel_label(t));
    auto finish = [&] {
      rep.seconds = watch.seconds();
      log::info("{}{}: {}{}", tag, t.abi, rep.failed ? "failed" : std::string(outcome_name(rep.outcome)),
                rep.detail.empty() || rep.outcome == Outcome::does_not_apply ? "" : ": " + rep.detail);
      reports.push_back(rep);
    };
    if (!t.complete) {
      rep.outcome = Outcome::unavailable;
      rep.detail = "the archive serves only its image; missing " + t.missing;
      finish();
      continue;
    }

    // probe: does the fix apply to this kernel's exact source (after the earlier fixes)?
    const Baseline* baseline = nullptr;
    if (auto it = config.baselines.find(t.abi); it != config.baselines.end()) baseline = &it->second;
    fs::path probe_dir = fs::temp_directory_path() / ("noreboot-probe." + std::to_string(::getpid()));
    fs::remove_all(probe_dir, ec);
    Result<FitResult> fit = Error(Errc::internal, "not probed");
    if (auto fixes = fix_files(config, baseline, patch, probe_dir); !fixes.ok()) {
      fit = std::move(fixes).error();
    } else if (auto source = source_for_probe(config, t, touched_files(*fixes)); !source.ok()) {
      fit = std::move(source).error();
    } else {
      fit = apply_fixes(*source, probe_dir / "src", *fixes, kernel_label(t), probe_dir / "patch.log");
    }
    fs::remove_all(probe_dir, ec);
    if (!fit.ok()) {
      rep.failed = true;
      rep.detail = fit.error().message();
      finish();
      continue;
    }
    if (fit->fit != FixFit::applies) {
      rep.outcome = fit->fit == FixFit::already_fixed ? Outcome::already_fixed : Outcome::does_not_apply;
      rep.detail = fit->detail;
      if (rep.outcome == Outcome::does_not_apply)
        log::info("{}{}: the fix does not apply to its source:\n{}", tag, t.abi, rep.detail);
      finish();
      continue;
    }

    // build: this kernel alone, into DIR/<ABI>.nrp.
    BuildConfig one = base;
    one.kernels.clear();
    one.kernel = "debian:" + t.abi;
    one.output = config.output / (t.abi + ".nrp");
    if (!config.keep_work.empty()) one.keep_work = config.keep_work / t.abi;
    auto r = run_build(one);
    if (!r.ok()) {
      rep.failed = true;
      rep.detail = r.error().message();
    } else {
      rep.outcome = r->outcome;
      rep.refusals = r->refusals;
      rep.detail = r->detail;
      rep.module_name = r->module_name;
      rep.sequence = r->sequence;
      if (r->outcome == Outcome::built) rep.bundle = one.output;
      if (config.keep_work.empty() && !r->work.empty()) fs::remove_all(r->work, ec);
      if (!r->clock.steps().empty()) log::info("{}{} timings:\n{}", tag, t.abi, r->clock.summary());
    }
    finish();
  }
  return reports;
}

std::string format_kernel_summary(const std::vector<KernelReport>& reports) {
  std::string out;
  for (const auto& r : reports) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%6.1f s", r.seconds);
    std::string line = "  " + r.target.abi + "  " + r.target.version + "  " + secs + "  ";
    if (r.failed) {
      line += "FAILED: " + r.detail.substr(0, r.detail.find('\n'));
    } else {
      line += std::string(outcome_name(r.outcome));
      switch (r.outcome) {
        case Outcome::built: line += ": " + r.bundle.string() + " (" + r.module_name + ", sequence " +
                                     std::to_string(r.sequence) + ")"; break;
        case Outcome::already_fixed: line += ": its source already contains the fix; nothing to patch"; break;
        case Outcome::does_not_apply:
          line += ": the code it changes differs in this version (a backport if the bug is there too)";
          break;
        case Outcome::unavailable: line += ": " + r.detail; break;
        case Outcome::refused:
          line += ":";
          for (const auto& f : r.refusals) line += " " + f.what + ";";
          break;
        case Outcome::no_change: line += ": the fix changes no object of this kernel"; break;
      }
    }
    out += line + "\n";
  }
  return out;
}

Status write_kernel_summary(const fs::path& dir, const BuildConfig& config, const std::vector<KernelReport>& reports) {
  nlohmann::ordered_json j;
  j["patch"] = config.patch.filename().string();
  j["fixes"] = nlohmann::ordered_json::array();
  for (const auto& f : fixes_of(config)) j["fixes"].push_back({{"id", f.id}, {"description", f.description}});
  j["kernels"] = nlohmann::ordered_json::array();
  for (const auto& r : reports) {
    nlohmann::ordered_json k;
    k["abi"] = r.target.abi;
    k["version"] = r.target.version;
    k["outcome"] = r.failed ? "failed" : std::string(outcome_key(r.outcome));
    if (!r.bundle.empty()) {
      k["bundle"] = r.bundle.filename().string();
      k["module"] = r.module_name;
      k["sequence"] = r.sequence;
    }
    if (!r.detail.empty()) k["detail"] = r.detail;
    if (!r.refusals.empty()) {
      k["refused"] = nlohmann::ordered_json::array();
      for (const auto& f : r.refusals) k["refused"].push_back({{"what", f.what}, {"reason", f.reason}, {"todo", f.todo}});
    }
    k["seconds"] = static_cast<double>(static_cast<long>(r.seconds * 10)) / 10;
    j["kernels"].push_back(std::move(k));
  }
  return write_text(dir / "summary.json", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

int kernels_exit_code(const std::vector<KernelReport>& reports) {
  int code = 0;
  for (const auto& r : reports) {
    if (r.failed || (r.outcome == Outcome::unavailable && !r.target.from_pattern)) return 1;
    if (r.outcome == Outcome::refused || r.outcome == Outcome::does_not_apply) code = 3;
  }
  return code;
}

}  // namespace noreboot::builder
