#include "builder/build.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "builder/fix_apply.h"
#include "builder/header_index_build.h"
#include "builder/header_units.h"
#include "builder/livepatch.h"
#include "core/process.h"
#include "builder/shipped_check.h"
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
  if (!config.tree.empty()) {
    clock.begin("prepare", "using the prepared tree " + config.tree.string());
    NR_TRY(auto p, profile_from_tree(config.tree));
    clock.end("prepare");
    return p;
  }
  if (config.kernel.empty())
    return Error(Errc::invalid_argument, "no target kernel: give --kernel debian:ABI (or debian:current) or --tree DIR");
  PrepareOptions po{.kernel_fetch = config.kernel_fetch, .jobs = config.jobs, .clock = &clock};
  return prepare_debian(config.kernel, po);
}

namespace {

Result<fs::path> make_work_dir(const BuildConfig& config) {
  if (!config.keep_work.empty()) {
    std::error_code ec;
    fs::create_directories(config.keep_work, ec);
    if (ec) return Error(Errc::io, "--keep-work " + config.keep_work.string() + ": " + ec.message());
    return fs::absolute(config.keep_work);
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/noreboot-build.XXXXXX";
  if (!mkdtemp(templ.data())) return Error(Errc::io, "cannot create a work folder in " + templ);
  return fs::path(templ);
}

}  // namespace

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

namespace {

// Sources travel in the signed manifest as JSON strings: they must be UTF-8, or the bytes
// would be altered on the way (and the next cumulative build would apply something else).
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 4;
    if (n == 4 || s.size() - i < n + 1) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}


// The module name: --name, else from the fix's file name; never the baseline's own name (the
// kernel cannot load a module whose name is loaded, and the new patch replaces the old one
// while both are loaded).
std::string module_name_for(const BuildConfig& config, const Baseline* baseline) {
  std::string name = config.name.empty() ? default_module_name(config.patch) : config.name;
  if (!baseline || baseline->manifest.name != name) return name;
  std::string base = name.substr(0, 52);
  for (int n = 2;; ++n) {
    std::string candidate = base + "_" + std::to_string(n);
    if (candidate != baseline->manifest.name) return candidate;
  }
}

}  // namespace

namespace {

// Everything after the kernel is prepared: stage, record, compile, diff, klp, sign, bundle.
Result<BuildResult> build_in_tree(const BuildConfig& config, const KernelProfile& profile, const Baseline* baseline,
                                  std::vector<std::string> sources, const std::vector<std::string>& headers,
                                  const std::vector<FixFile>& fixes,
                                  const std::string& patch_text, BuildResult result) {
  StepClock& clock = result.clock;
  CompileOptions co{.jobs = config.jobs, .work = result.work, .clock = &clock, .author_include = find_author_include()};
  fs::path modules_order = profile.moddir.empty() ? fs::path() : profile.moddir / "modules.order";

  // stage before record: a fix that does not apply should not cost a Kbuild run.
  clock.begin("stage", "applying " + std::to_string(fixes.size()) + " fix(es) to copies of the source of " + profile.abi);
  NR_TRY(auto fit, stage_sources(profile, fixes, co));
  clock.end("stage");
  if (fit.fit == FixFit::already_fixed) {
    log::info("[stage] {}: the source of {} already contains this fix", config.patch.filename().string(), profile.abi);
    result.outcome = Outcome::already_fixed;
    return result;
  }
  if (fit.fit == FixFit::does_not_apply) {
    result.outcome = Outcome::does_not_apply;
    result.detail = fit.detail;
    return result;
  }

  // headers: the units a header change reaches (header_units.h), compiled like touched files.
  if (!headers.empty()) {
    clock.begin("headers", "the units that " + std::to_string(headers.size()) + " changed header(s) reach");
    NR_TRY(auto index, ensure_header_index(profile));
    NR_TRY(auto reached, units_for_headers(index, headers, result.work));
    clock.end("headers");
    if (!reached.refusals.empty()) {
      result.refusals = std::move(reached.refusals);
      result.outcome = Outcome::refused;
      return result;
    }
    for (const auto& s : reached.sources)
      if (std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
    co.headers = headers;
    if (sources.empty()) {
      log::info("[headers] no unit holds code from the changed lines");
      result.outcome = Outcome::no_change;
      return result;
    }
  }

  std::vector<Unit> units;
  for (const auto& s : sources) units.push_back({.source = s, .object = object_of(s)});
  NR_TRY_STATUS(record_commands(profile, units, modules_order, co));
  if (!headers.empty()) NR_TRY_STATUS(stage_unchanged_sources(profile, sources, result.work));
  for (const auto& u : units) log::info("[units] {} -> {}", u.source, u.owner);

  NR_TRY(auto compiled, compile_units(profile, units, co));
  if (!compiled.refusals.empty()) {
    result.refusals = std::move(compiled.refusals);
    result.outcome = Outcome::refused;
    return result;
  }
  result.units = std::move(compiled.units);
  bool any_change = false;
  for (const auto& cu : result.units) {
    if (cu.identical) log::info("[compile] {}: the fix does not change the object", cu.unit.object);
    else any_change = true;
  }
  if (!any_change) {
    result.outcome = Outcome::no_change;
    return result;
  }
  if (config.stop == BuildConfig::Stop::compile) return result;

  // diff: per unit, what changed, and every refusal (all printed before stopping).
  clock.begin("diff", "comparing " + std::to_string(result.units.size()) + " object pair(s)");
  NR_TRY(auto diffs, diff_units(result.units, result.work));
  clock.end("diff");
  if (!diffs.refusals.empty()) {
    result.refusals = diffs.refusals;
    result.outcome = Outcome::refused;
    return result;
  }
  if (diffs.units.empty()) {
    result.outcome = Outcome::no_change;
    return result;
  }

  // verify: the original of every replaced function must be the code the target kernel runs
  // (a tree built from another source would patch in another kernel's code); see shipped_check.h.
  clock.begin("verify", "the original functions against the shipped kernel's code");
  NR_TRY(auto proof, check_shipped_code(profile, diffs, result.work));
  clock.end("verify");
  if (!proof.refusals.empty()) {
    result.refusals = proof.refusals;
    result.outcome = Outcome::refused;
    return result;
  }

  // klp: one livepatch module for every patched object (vmlinux and modules).
  std::string name = module_name_for(config, baseline);
  result.module_name = name;
  clock.begin("klp", "livepatch module " + name);
  NR_TRY(auto module, make_module(profile, diffs, name, result.work));
  clock.end("klp");

  // sign: optional PKCS#7 module signature (Secure Boot hosts, module.sig_enforce=1) with the
  // kernel's own sign-file, as `make modules_install` would append it.
  if (!config.module_sign_key.empty()) {
    clock.begin("sign", "PKCS#7 module signature with " + config.module_sign_cert.string());
    fs::path sign_file = profile.tree / "scripts/sign-file";
    if (!fs::exists(sign_file))
      return Error(Errc::not_found, sign_file.string() + " is missing: the tree was not prepared with CONFIG_MODULE_SIG");
    NR_TRY_STATUS(run_checked({sign_file.string(), "sha256", fs::absolute(config.module_sign_key).string(),
                               fs::absolute(config.module_sign_cert).string(), module.string()},
                              {.log = result.work / "sign.log"})
                      .ok() ? ok_status() : Status(Error(Errc::invalid_input, "sign-file refused the key or certificate:\n" +
                                                                 tail_of(result.work / "sign.log") +
                                                                 "  give a PEM private key and its X.509 certificate")));
    clock.end("sign");
  }

  // bundle: manifest with the image's identity, every fix's text, signed.
  clock.begin("bundle", "signed bundle " + config.output.string());
  BundleRequest br{.module = module, .name = name, .key = config.key, .output = config.output};
  if (baseline) {
    br.fixes = baseline->manifest.fixes;
    br.sources = baseline->manifest.sources;
  }
  for (auto& f : fixes_of(config)) br.fixes.push_back(std::move(f));
  br.sources.push_back({config.patch.filename().string(), patch_text});
  if (config.sequence) {
    br.sequence = *config.sequence;
  } else {
    br.sequence = static_cast<std::uint64_t>(std::time(nullptr));
    if (baseline && br.sequence <= baseline->manifest.sequence) br.sequence = baseline->manifest.sequence + 1;
    log::info("[bundle] no --sequence given: using {} (the current time{}), so this bundle replaces earlier ones", br.sequence,
              baseline ? ", or above the earlier patch's" : "");
  }
  result.sequence = br.sequence;
  NR_TRY(result.bundle, write_signed_bundle(profile, br));
  clock.end("bundle");
  return result;
}

}  // namespace

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

Result<BuildResult> run_build(const BuildConfig& config) {
  BuildResult result;
  StepClock& clock = result.clock;

  // Read the fix first: a bad patch should fail before minutes of downloads.
  if (config.patch.empty()) return Error(Errc::invalid_argument, "no fix given: --patch FIX.patch");
  NR_TRY(auto patch_text, read_text(config.patch));
  if (!valid_utf8(patch_text))
    return Error(Errc::invalid_argument, config.patch.string() + " is not UTF-8 text: the bundle carries the fix's "
                                             "text in its signed manifest; convert the file to UTF-8");
  NR_TRY(auto patch, parse_patch(patch_text, config.patch.string()));
  if (config.stop == BuildConfig::Stop::bundle && config.output.empty())
    return Error(Errc::invalid_argument, "no output given: -o OUT.nrp");

  // units: classify the fix's files first (refusals before minutes of downloads).
  TouchedFiles touched = classify_files(patch);
  for (const auto& i : touched.ignored) log::info("[units] ignored {}", i);
  if (!touched.refusals.empty()) {
    result.refusals = touched.refusals;
    result.outcome = Outcome::refused;
    return result;
  }

  // prepare: the kernel tree (cached per ABI and version).
  NR_TRY(auto profile, resolve_profile(config, clock));
  result.abi = profile.abi;
  result.version = profile.version;

  // The earlier cumulative patch for this kernel, if any: its fixes come first, and its files
  // are part of the build too.
  const Baseline* baseline = nullptr;
  if (auto it = config.baselines.find(profile.abi); it != config.baselines.end()) {
    baseline = &it->second;
    log::info("[stage] on top of {}: {} (sequence {}), {} earlier fix(es)", it->second.bundle.string(),
              it->second.manifest.name, it->second.manifest.sequence, it->second.manifest.sources.size());
    if (config.sequence && *config.sequence <= baseline->manifest.sequence)
      return Error(Errc::invalid_argument, "--sequence " + std::to_string(*config.sequence) + " does not replace " +
                                               baseline->bundle.string() + " (sequence " +
                                               std::to_string(baseline->manifest.sequence) + "): give a higher one");
    PatchSet all = patch;
    for (const auto& sp : baseline->manifest.sources) {
      NR_TRY(auto earlier, parse_patch(sp.text, "earlier fix " + sp.name));
      all.files.insert(all.files.end(), earlier.files.begin(), earlier.files.end());
    }
    all.files = touched_files({{config.patch, "", all}});
    touched = classify_files(all);
    if (!touched.refusals.empty()) {
      result.refusals = touched.refusals;
      result.outcome = Outcome::refused;
      return result;
    }
  } else if (!config.baselines.empty()) {
    log::info("[stage] no earlier patch for {} among --on-top-of: this patch holds only the new fix", profile.abi);
  }
  if (touched.sources.empty() && touched.headers.empty()) {
    log::info("[units] the fix changes no kernel C source");
    result.outcome = Outcome::no_change;
    return result;
  }
  NR_TRY(result.work, make_work_dir(config));
  log::info("[work] {}", result.work.string());
  NR_TRY(auto fix_list, fix_files(config, baseline, patch, result.work));
  return build_in_tree(config, profile, baseline, touched.sources, touched.headers, fix_list, patch_text, std::move(result));
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
