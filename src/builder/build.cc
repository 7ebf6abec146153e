#include "builder/build.h"

#include <algorithm>

#include "builder/build_passes.h"
#include "builder/fix_apply.h"
#include "builder/livepatch.h"
#include "core/file_io.h"
#include "core/bundle.h"
#include "core/keys.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

Result<KernelProfile> resolve_profile(const BuildConfig& config, StepClock& clock) {
  if (!config.tree.empty() && !config.kernel.empty()) {
    // Compile in the given tree (with its own release), target Debian's kernel (image, symbols,
    // modules, headers). The verify pass is what proves the tree is that kernel's source.
    NR_TRY(auto own, profile_from_tree(config.tree));
    PrepareOptions po{.kernel_fetch = config.kernel_fetch, .jobs = config.jobs, .clock = &clock};
    NR_TRY(auto target, prepare_debian(config.kernel, po));
    log::info("[prepare] compiling in {} (release {}) for Debian's {}", own.tree.string(), own.abi, target.abi);
    target.tree = own.tree;
    target.tree_release = own.abi;
    return target;
  }
  if (!config.tree.empty()) return profile_from_tree(config.tree);
  if (config.kernel.empty())
    return Error(Errc::invalid_argument, "no target kernel: give --kernel debian:ABI (or debian:current) or --tree DIR");
  PrepareOptions po{.kernel_fetch = config.kernel_fetch, .jobs = config.jobs, .clock = &clock};
  return prepare_debian(config.kernel, po);
}

namespace {

// Every outcome's two spellings in one table: the key for summary.json and the fix record,
// the words for people.
struct OutcomeText {
  Outcome outcome;
  std::string_view key, words;
};
constexpr OutcomeText kOutcomeTexts[] = {
    {Outcome::built, "built", "built"},
    {Outcome::refused, "refused", "refused"},
    {Outcome::no_change, "no_change", "no change"},
    {Outcome::already_fixed, "already_fixed", "already fixed"},
    {Outcome::does_not_apply, "does_not_apply", "does not apply"},
    {Outcome::unavailable, "unavailable", "not buildable from the archive"},
};

const OutcomeText* outcome_text(Outcome outcome) {
  for (const auto& t : kOutcomeTexts)
    if (t.outcome == outcome) return &t;
  return nullptr;
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  const OutcomeText* t = outcome_text(outcome);
  return t ? t->words : "?";
}

std::string_view outcome_key(Outcome outcome) {
  const OutcomeText* t = outcome_text(outcome);
  return t ? t->key : "?";
}

Result<std::vector<FixFile>> fix_files(const BuildConfig& config, const Baseline* baseline, const PatchSet& patch,
                                       const fs::path& work) {
  std::vector<FixFile> fixes;
  if (baseline) {
    std::error_code ec;
    fs::create_directories(work / "fixes", ec);
    const auto& sources = baseline->manifest.sources;
    for (size_t i = 0; i < sources.size(); ++i) {
      std::string what = "earlier fix " + sources[i].name + " (from " + baseline->bundle.filename().string() + ")";
      fs::path file = work / "fixes" / (std::to_string(i + 1) + "-" + fs::path(sources[i].name).filename().string());
      NR_TRY_STATUS(write_text(file, sources[i].text));
      NR_TRY(auto parsed, parse_patch(sources[i].text, what));
      fixes.push_back({file, what, parsed});
    }
  }
  fixes.push_back({config.patch, config.patch.filename().string(), patch});
  return fixes;
}

std::vector<Fix> fixes_of(const BuildConfig& config) {
  std::vector<Fix> out;
  for (const auto& f : config.fixes) {
    auto colon = f.find(':');
    out.push_back({f.substr(0, colon), colon == std::string::npos ? "" : f.substr(colon + 1)});
  }
  return out;
}

// The passes in their order (build_passes.h says what each reads and writes), each under one
// StepTimer named after it: its seconds are in the `timings:` block, its sub-steps nested.
Result<BuildResult> run_build(const BuildConfig& config) {
  static const BuildPass kPasses[] = {
      {"fix", read_fix},
      {"units", classify_units},
      {"prepare", prepare_kernel},
      {"baseline", pick_baseline, has_baselines},
      {"work", make_work},
      {"stage", stage_fixes},
      {"headers", reach_header_units, changes_headers},
      {"record", record_units},
      {"compile", compile_objects},
      {"diff", diff_objects_pass},
      {"verify", verify_shipped},
      {"klp", make_livepatch},
      {"sign", sign_module, signs_module},
      {"bundle", write_bundle},
  };
  BuildContext ctx(config);
  for (const BuildPass& pass : kPasses) {
    if (ctx.stopped) break;
    if (pass.wanted && !pass.wanted(ctx)) continue;
    StepTimer timer(ctx.result.clock, std::string(pass.name));
    if (Status st = pass.run(ctx); !st.ok()) {
      timer.failed();
      return std::move(st).error();
    }
  }
  return std::move(ctx.result);
}

Result<std::map<std::string, Baseline>> load_baselines(const std::vector<fs::path>& paths, const fs::path& key) {
  std::map<std::string, Baseline> out;
  if (paths.empty()) return out;
  fs::path key_path = key.empty() ? default_key_path() : key;
  auto secret = load_secret_key(key_path);
  if (!secret.ok())
    return std::move(secret).error().context("--on-top-of: the earlier patches are checked against the key this build "
                                             "signs with (" + key_path.string() + ")");
  TrustStore trust;
  trust.add(secret->public_key());
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.path().extension() == ".nrp") files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return Error(Errc::invalid_argument, "--on-top-of: no bundle (*.nrp) found");
  for (const auto& f : files) {
    auto contents = read_bundle(f);
    if (!contents.ok()) return std::move(contents).error().context("--on-top-of");
    auto signer = verify_bundle(*contents, trust);
    if (!signer.ok())
      return Error(Errc::invalid_input, "--on-top-of " + f.string() + ": " + signer.error().message() +
                                            "; only patches signed with " + key_path.string() + " (key " + secret->id() +
                                            ") can be built upon");
    const Manifest& m = contents->manifest;
    if (m.sources.empty())
      return Error(Errc::invalid_input, "--on-top-of " + f.string() + " (" + m.name + ") carries no source fixes: it was "
                                        "built before bundles recorded them; rebuild it, or give all its fixes in one --patch");
    auto [it, fresh] = out.try_emplace(m.kernel.release, Baseline{f, m});
    if (!fresh) {
      if (it->second.manifest.sequence == m.sequence)
        return Error(Errc::invalid_argument, "--on-top-of: " + it->second.bundle.string() + " and " + f.string() +
                                                 " are both sequence " + std::to_string(m.sequence) + " for " + m.kernel.release);
      if (m.sequence > it->second.manifest.sequence) it->second = Baseline{f, m};
    }
  }
  return out;
}

}  // namespace noreboot::builder
