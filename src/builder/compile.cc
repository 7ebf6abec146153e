#include "builder/compile.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <tuple>

#include "builder/compile_errors.h"
#include "core/file_lock.h"
#include "core/process.h"
#include "core/file_io.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

std::string without_last_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool has_our_flags(const std::string& cmd) { return cmd.find(kKcflags) != std::string::npos; }

}  // namespace

// The lock belongs to the tree, not to the target: a cached tree (KDIR/tree, prepared when
// KDIR/tree.done exists) is locked by KDIR/.tree.lock whichever build compiles in it
// (--kernel debian:ABI, or --tree KDIR/tree with another --kernel).
fs::path tree_lock_path(const KernelProfile& p) {
  fs::path kdir = p.tree.parent_path();
  if (p.tree.filename() == "tree" && fs::exists(kdir / "tree.done")) return kdir / ".tree.lock";
  return p.tree / ".noreboot-build.lock";
}

Result<bool> same_bytes(const fs::path& a, const fs::path& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa) return Error(Errc::not_found, "cannot read " + a.string());
  if (!fb) return Error(Errc::not_found, "cannot read " + b.string());
  std::istreambuf_iterator<char> ea, eb;
  return std::equal(std::istreambuf_iterator<char>(fa), ea, std::istreambuf_iterator<char>(fb), eb);
}

Status record_commands(const KernelProfile& profile, std::vector<Unit>& units, const fs::path& modules_order,
                       const CompileOptions& opts) {
  std::vector<std::string> missing;
  for (auto& u : units) {
    auto cmd = read_recorded_command(profile.tree, u.object);
    if (!cmd.ok() || !has_our_flags(cmd.value()) || !fs::exists(profile.tree / u.object))
      missing.push_back(u.object);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += " " + m;
    StepTimer kbuild(*opts.clock, "kbuild", "first compile of" + list + " in the cached tree (records the exact commands)");
    NR_TRY(auto lock, FileLock::acquire(tree_lock_path(profile),
                                        {.holder = "noreboot-build", .why = "compiling in the kernel tree"}));
    auto make = make_command(profile, opts.jobs);
    make.insert(make.end(), missing.begin(), missing.end());
    fs::path log = opts.work / "kbuild.log";
    if (auto r = run_checked(make, {.cwd = profile.tree, .log = log}); !r.ok())
      return std::move(r).error().context("Kbuild could not compile the original of" + list +
                                          " (is the file built with this kernel's config?)");
  }
  for (auto& u : units) {
    NR_TRY(u.command, read_recorded_command(profile.tree, u.object));
    if (!has_our_flags(u.command))
      return Error(Errc::internal, u.object + ": Kbuild recorded a command without " + std::string(kKcflags));
    NR_TRY_STATUS(resolve_owner(u, modules_order));
  }
  return ok_status();
}

Result<FitResult> stage_sources(const KernelProfile& profile, const std::vector<FixFile>& fixes,
                                const CompileOptions& opts) {
  std::error_code ec;
  fs::path orig = opts.work / "src-orig";
  fs::remove_all(orig, ec);
  for (const auto& f : touched_files(fixes)) {
    fs::path from = profile.tree / f.old_path;
    if (!fs::exists(from)) continue;  // added by a fix, or missing: apply_fixes says which
    fs::create_directories((orig / f.old_path).parent_path(), ec);
    fs::copy_file(from, orig / f.old_path, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error(Errc::io, "cannot copy " + from.string() + ": " + ec.message());
  }
  fs::path log = opts.work / "patch.log";
  fs::remove(log, ec);
  std::string what = profile.abi + (profile.version.empty() ? "" : " (" + profile.version + ")");
  return apply_fixes(profile.tree, opts.work / "src-patched", fixes, what, log);
}

std::string fast_command(const Unit& unit, const fs::path& src_root, const fs::path& out_object,
                         const std::string& extra_flags, const std::vector<std::string>& headers) {
  std::string debug_maps;  // after -ffile-prefix-map (the last matching map wins)
  const std::string& cmd = unit.command;
  fs::path dep = out_object.parent_path() / ("." + out_object.filename().string() + ".d");
  std::string unit_dir = fs::path(unit.source).parent_path().string();
  std::string out;
  size_t i = 0;
  while (i < cmd.size()) {
    if (cmd[i] == ' ' || cmd[i] == '\t') { out += cmd[i++]; continue; }
    size_t j = cmd.find_first_of(" \t", i);
    if (j == std::string::npos) j = cmd.size();
    std::string tok = cmd.substr(i, j - i);
    if (tok.size() > 2 && tok.rfind("-I", 0) == 0) {
      std::string spelt = tok.substr(2), dir = spelt.rfind("./", 0) == 0 ? spelt.substr(2) : spelt;
      while (!dir.empty() && dir.back() == '/') dir.pop_back();
      bool holds = std::any_of(headers.begin(), headers.end(), [&](const std::string& h) { return h.rfind(dir + "/", 0) == 0; });
      if (holds && !dir.empty() && dir[0] != '/') {
        out += "-I" + (src_root / dir).string() + " ";
        debug_maps += " -fdebug-prefix-map=" + (src_root / dir).string() + "=" + spelt;
      }
      out += tok;
    } else if (tok == unit.object) {
      out += out_object.string();
    } else if (tok == unit.source) {
      // The directory exactly as GCC saw it for the original ("fs/proc", not "./fs/proc"):
      // it is recorded in DWARF and in __FILE__ of headers found there.
      if (!extra_flags.empty()) out += extra_flags + " ";
      out += "-iquote " + (unit_dir.empty() ? std::string(".") : unit_dir) + " -ffile-prefix-map=" + src_root.string() + "/=" +
             debug_maps + " " + (src_root / unit.source).string();
    } else if (tok.rfind("-Wp,-MMD,", 0) == 0) {
      out += "-Wp,-MMD," + dep.string();
    } else {
      out += tok;
    }
    i = j;
  }
  return out;
}

Result<CompiledUnits> compile_units(const KernelProfile& profile, const std::vector<Unit>& units,
                                    const CompileOptions& opts) {
  struct Job { size_t unit; bool patched; };
  struct Failure { size_t unit; bool patched; fs::path log; };
  std::vector<Job> jobs;
  CompiledUnits result;
  std::vector<CompiledUnit>& out = result.units;
  for (size_t k = 0; k < units.size(); ++k) {
    CompiledUnit cu{units[k], opts.work / "orig" / units[k].object, opts.work / "patched" / units[k].object};
    std::error_code ec;
    fs::create_directories(cu.original.parent_path(), ec);
    fs::create_directories(cu.patched.parent_path(), ec);
    fs::remove(cu.original, ec);
    fs::remove(cu.patched, ec);
    out.push_back(cu);
    jobs.push_back({k, false});
    jobs.push_back({k, true});
  }
  std::string patched_flags =
      opts.author_include.empty() ? "" : "-idirafter " + shell_quote(opts.author_include.string());
  opts.clock->announce(std::to_string(jobs.size()) + " objects on the fast path, " + std::to_string(opts.jobs) +
                       " at a time");
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<Error> errors;
  std::vector<Failure> failures;
  auto worker = [&] {
    for (;;) {
      size_t n = next++;
      if (n >= jobs.size()) return;
      const auto& job = jobs[n];
      const CompiledUnit& cu = out[job.unit];
      fs::path obj = job.patched ? cu.patched : cu.original;
      fs::path src_root = opts.work / (job.patched ? "src-patched" : "src-orig");
      fs::path log = obj;
      log += ".log";
      std::error_code ec;
      fs::remove(log, ec);
      Stopwatch watch;
      // sh -e: stop at the compiler's failure instead of running objtool on a missing object
      // (compile_errors.h).
      auto r = run_process({"sh", "-e", "-c", fast_command(cu.unit, src_root, obj, job.patched ? patched_flags : "",
                                                                job.patched ? opts.headers : std::vector<std::string>{})},
                           {.cwd = profile.tree, .log = log});
      std::lock_guard<std::mutex> g(mu);
      if (!r.ok()) {
        errors.push_back(std::move(r).error().context(std::string(job.patched ? "patched " : "original ") +
                                                      cu.unit.source));
      } else if (r->exit_code != 0) {
        failures.push_back({job.unit, job.patched, log});
      } else {
        log::info("[compile] {} {} ({})", job.patched ? "patched " : "original", cu.unit.object, watch.text());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, opts.jobs); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e.message();
    return Error(errors.front().code(), msg);
  }
  std::sort(failures.begin(), failures.end(),
            [](const Failure& a, const Failure& b) { return std::tie(a.unit, a.patched) < std::tie(b.unit, b.patched); });
  auto excerpt = [&](const Failure& f) {
    auto text = read_text(f.log);
    fs::path root = opts.work / (f.patched ? "src-patched" : "src-orig");
    return compiler_excerpt(text.ok() ? *text : "(no compiler output: " + f.log.string() + " is unreadable)\n",
                            root.string());
  };
  // The original first: when the kernel's own file does not compile, the fix is not to blame.
  for (const auto& f : failures) {
    if (f.patched) continue;
    const CompiledUnit& cu = out[f.unit];
    return Error(Errc::invalid_input,
                 "the kernel tree/profile is broken: the original (unpatched) " + cu.unit.source +
                     " does not compile in " + profile.tree.string() + " with Kbuild's recorded command; the compiler said:\n" +
                     excerpt(f) + "  this is not your fix: prepare the tree again (remove " +
                     (profile.tree.parent_path() / "tree.done").string() + " for a cached tree) or check --tree");
  }
  for (const auto& f : failures) {
    const CompiledUnit& cu = out[f.unit];
    result.refusals.push_back(
        {cu.unit.source, "the fix does not compile; the compiler's first errors:\n" + without_last_newline(excerpt(f)),
         "correct the fix so that it compiles against this kernel's source (the lines above name your patch's files "
         "and lines); --keep-work DIR keeps the full log (DIR/patched/" + cu.unit.object + ".log)"});
  }
  if (!result.refusals.empty()) return result;
  for (auto& cu : out) {
    NR_TRY(bool same, same_bytes(cu.original, profile.tree / cu.unit.object));
    if (!same)
      return Error(Errc::internal, "the fast-path compile of " + cu.unit.source + " differs from Kbuild's " +
                                       (profile.tree / cu.unit.object).string() +
                                       ": the recorded command could not be replayed exactly; please report this");
    NR_TRY(cu.identical, same_bytes(cu.original, cu.patched));
  }
  return result;
}

}  // namespace noreboot::builder
