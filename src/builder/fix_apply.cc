#include "builder/fix_apply.h"

#include <fstream>
#include <set>

#include "core/process.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

std::string_view fix_fit_name(FixFit fit) {
  switch (fit) {
    case FixFit::applies: return "applies";
    case FixFit::already_fixed: return "already fixed";
    case FixFit::does_not_apply: return "does not apply";
  }
  return "?";
}

std::vector<FileChange> touched_files(const std::vector<FixFile>& fixes) {
  std::vector<FileChange> out;
  std::set<std::string> seen;
  for (const auto& f : fixes)
    for (const auto& c : f.patch.files)
      if (seen.insert(c.old_path).second) out.push_back(c);
  return out;
}

namespace {

// patch -pN --batch [--dry-run] [-R] on DIR; exit code and output (appended to LOG).
Result<std::pair<int, std::string>> run_patch(const FixFile& fix, const fs::path& dir, bool dry_run, bool reverse,
                                              const fs::path& log) {
  std::vector<std::string> argv{"patch", "-p" + std::to_string(fix.patch.strip), "--batch", "--forward",
                                "--no-backup-if-mismatch", "-r", "-", "-d", dir.string(),
                                "-i", fs::absolute(fix.file).string()};
  if (dry_run) argv.push_back("--dry-run");
  if (reverse) argv.push_back("--reverse");
  NR_TRY(auto r, run_process(argv, {.capture_stdout = true}));
  std::ofstream(log, std::ios::app) << "$ patch " << (reverse ? "--reverse " : "") << (dry_run ? "--dry-run " : "")
                                     << fix.name << "\n" << r.out;
  return std::make_pair(r.exit_code, r.out);
}

}  // namespace

Result<FitResult> apply_fixes(const fs::path& source_root, const fs::path& dest, const std::vector<FixFile>& fixes,
                              const std::string& what, const fs::path& log) {
  if (fixes.empty()) return Error(Errc::internal, "apply_fixes: no fix");
  std::error_code ec;
  fs::remove_all(dest, ec);
  fs::create_directories(dest, ec);
  std::string missing;
  for (const auto& f : touched_files(fixes)) {
    fs::path from = source_root / f.old_path;
    if (!fs::exists(from)) {
      if (f.kind != ChangeKind::added) missing += " " + f.old_path;
      continue;
    }
    fs::create_directories((dest / f.old_path).parent_path(), ec);
    fs::copy_file(from, dest / f.old_path, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error(Errc::io, "cannot copy " + from.string() + ": " + ec.message());
  }
  for (size_t i = 0; i + 1 < fixes.size(); ++i) {
    NR_TRY(auto r, run_patch(fixes[i], dest, false, false, log));
    if (r.first != 0)
      return Error(Errc::invalid_input, fixes[i].name + " does not apply to the source of " + what + ":\n" + r.second +
                                            "  it was built into the earlier patch for this kernel: is that bundle "
                                            "really for " + what + "?");
  }
  const FixFile& fix = fixes.back();
  if (!missing.empty())
    return FitResult{FixFit::does_not_apply, "the source of " + what + " has no" + missing};
  NR_TRY(auto forward, run_patch(fix, dest, true, false, log));
  if (forward.first == 0) {
    NR_TRY(auto real, run_patch(fix, dest, false, false, log));
    if (real.first != 0)
      return Error(Errc::internal, fix.name + " applied in a dry run but not for real:\n" + real.second);
    return FitResult{FixFit::applies, ""};
  }
  NR_TRY(auto reverse, run_patch(fix, dest, true, true, log));
  if (reverse.first == 0) return FitResult{FixFit::already_fixed, ""};
  return FitResult{FixFit::does_not_apply, forward.second};
}

}  // namespace noreboot::builder
