// The passes of one build (build_passes.h says what each reads and writes). Each is short: the
// work is done by the unit that owns it (compile.h, livepatch.h, shipped_check.h, ...); a pass
// moves results between the context and that unit, announces itself, and decides whether the
// build goes on.
#include "builder/build_passes.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "builder/header_index_build.h"
#include "builder/header_units.h"
#include "builder/shipped_check.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/process.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

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

Status read_fix(BuildContext& ctx) {
  const BuildConfig& config = ctx.config;
  if (config.patch.empty()) return Error(Errc::invalid_argument, "no fix given: --patch FIX.patch");
  NR_TRY(ctx.patch_text, read_text(config.patch));
  if (!valid_utf8(ctx.patch_text))
    return Error(Errc::invalid_argument, config.patch.string() +
                                             " is not UTF-8 text: the bundle carries the fix's "
                                             "text in its signed manifest; convert the file to UTF-8");
  NR_TRY(ctx.patch, parse_patch(ctx.patch_text, config.patch.string()));
  if (config.stop == BuildConfig::Stop::bundle && config.output.empty())
    return Error(Errc::invalid_argument, "no output given: -o OUT.nrp");
  return ok_status();
}

Status classify_units(BuildContext& ctx) {
  ctx.touched = classify_files(ctx.patch);
  for (const auto& i : ctx.touched.ignored) log::info("[units] ignored {}", i);
  if (!ctx.touched.refusals.empty()) ctx.refuse(ctx.touched.refusals);
  return ok_status();
}

Status prepare_kernel(BuildContext& ctx) {
  if (!ctx.config.tree.empty() && ctx.config.kernel.empty())
    ctx.result.clock.announce("using the prepared tree " + ctx.config.tree.string());
  NR_TRY(ctx.profile, resolve_profile(ctx.config, ctx.result.clock));
  ctx.result.abi = ctx.profile.abi;
  ctx.result.version = ctx.profile.version;
  return ok_status();
}

bool has_baselines(const BuildContext& ctx) { return !ctx.config.baselines.empty(); }

Status pick_baseline(BuildContext& ctx) {
  const BuildConfig& config = ctx.config;
  auto it = config.baselines.find(ctx.profile.abi);
  if (it == config.baselines.end()) {
    log::info("[stage] no earlier patch for {} among --on-top-of: this patch holds only the new fix", ctx.profile.abi);
    return ok_status();
  }
  const Baseline& baseline = it->second;
  ctx.baseline = &baseline;
  log::info("[stage] on top of {}: {} (sequence {}), {} earlier fix(es)", baseline.bundle.string(),
            baseline.manifest.name, baseline.manifest.sequence, baseline.manifest.sources.size());
  if (config.sequence && *config.sequence <= baseline.manifest.sequence)
    return Error(Errc::invalid_argument, "--sequence " + std::to_string(*config.sequence) + " does not replace " +
                                             baseline.bundle.string() + " (sequence " +
                                             std::to_string(baseline.manifest.sequence) + "): give a higher one");
  PatchSet all = ctx.patch;
  for (const auto& sp : baseline.manifest.sources) {
    NR_TRY(auto earlier, parse_patch(sp.text, "earlier fix " + sp.name));
    all.files.insert(all.files.end(), earlier.files.begin(), earlier.files.end());
  }
  all.files = touched_files({{config.patch, "", all}});
  ctx.touched = classify_files(all);
  if (!ctx.touched.refusals.empty()) ctx.refuse(ctx.touched.refusals);
  return ok_status();
}

Status make_work(BuildContext& ctx) {
  if (ctx.touched.sources.empty() && ctx.touched.headers.empty()) {
    log::info("[units] the fix changes no kernel C source");
    ctx.stop(Outcome::no_change);
    return ok_status();
  }
  NR_TRY(ctx.result.work, make_work_dir(ctx.config));
  log::info("[work] {}", ctx.result.work.string());
  NR_TRY(ctx.fixes, fix_files(ctx.config, ctx.baseline, ctx.patch, ctx.result.work));
  ctx.sources = ctx.touched.sources;
  ctx.compile = CompileOptions{.jobs = ctx.config.jobs,
                               .work = ctx.result.work,
                               .clock = &ctx.result.clock,
                               .author_include = find_author_include()};
  return ok_status();
}

Status stage_fixes(BuildContext& ctx) {
  ctx.result.clock.announce("applying " + std::to_string(ctx.fixes.size()) + " fix(es) to copies of the source of " +
                            ctx.profile.abi);
  NR_TRY(auto fit, stage_sources(ctx.profile, ctx.fixes, ctx.compile));
  if (fit.fit == FixFit::already_fixed) {
    log::info("[stage] {}: the source of {} already contains this fix", ctx.config.patch.filename().string(),
              ctx.profile.abi);
    ctx.stop(Outcome::already_fixed);
  } else if (fit.fit == FixFit::does_not_apply) {
    ctx.result.detail = fit.detail;
    ctx.stop(Outcome::does_not_apply);
  }
  return ok_status();
}

bool changes_headers(const BuildContext& ctx) { return !ctx.touched.headers.empty(); }

Status reach_header_units(BuildContext& ctx) {
  const auto& headers = ctx.touched.headers;
  ctx.result.clock.announce("the units that " + std::to_string(headers.size()) + " changed header(s) reach");
  NR_TRY(auto index, ensure_header_index(ctx.profile));
  NR_TRY(auto reached, units_for_headers(ctx.profile, index, headers, ctx.result.work,
                                           {.unit_limit = ctx.config.header_unit_limit, .jobs = ctx.config.jobs}));
  if (!reached.refusals.empty()) {
    ctx.refuse(std::move(reached.refusals));
    return ok_status();
  }
  for (const auto& s : reached.sources)
    if (std::find(ctx.sources.begin(), ctx.sources.end(), s) == ctx.sources.end()) ctx.sources.push_back(s);
  ctx.compile.headers = headers;
  if (ctx.sources.empty()) {
    log::info("[headers] no unit holds code from the changed lines");
    ctx.stop(Outcome::no_change);
  }
  return ok_status();
}

Status record_units(BuildContext& ctx) {
  for (const auto& s : ctx.sources) ctx.units.push_back({.source = s, .object = object_of(s)});
  fs::path modules_order = ctx.profile.moddir.empty() ? fs::path() : ctx.profile.moddir / "modules.order";
  NR_TRY_STATUS(record_commands(ctx.profile, ctx.units, modules_order, ctx.compile));
  if (!ctx.touched.headers.empty()) NR_TRY_STATUS(stage_unchanged_sources(ctx.profile, ctx.sources, ctx.result.work));
  for (const auto& u : ctx.units) log::info("[units] {} -> {}", u.source, u.owner);
  return ok_status();
}

Status compile_objects(BuildContext& ctx) {
  NR_TRY(auto compiled, compile_units(ctx.profile, ctx.units, ctx.compile));
  if (!compiled.refusals.empty()) {
    ctx.refuse(std::move(compiled.refusals));
    return ok_status();
  }
  ctx.result.units = std::move(compiled.units);
  bool any_change = false;
  for (const auto& cu : ctx.result.units) {
    if (cu.identical)
      log::info("[compile] {}: the fix does not change the object", cu.unit.object);
    else
      any_change = true;
  }
  if (!any_change)
    ctx.stop(Outcome::no_change);
  else if (ctx.config.stop == BuildConfig::Stop::compile)
    ctx.stop(Outcome::built);
  return ok_status();
}

Status diff_objects_pass(BuildContext& ctx) {
  ctx.result.clock.announce("comparing " + std::to_string(ctx.result.units.size()) + " object pair(s)");
  NR_TRY(ctx.diffs, diff_units(ctx.result.units, ctx.result.work));
  if (!ctx.diffs.refusals.empty())
    ctx.refuse(ctx.diffs.refusals);
  else if (ctx.diffs.units.empty())
    ctx.stop(Outcome::no_change);
  return ok_status();
}

Status verify_shipped(BuildContext& ctx) {
  ctx.result.clock.announce("the original functions against the shipped kernel's code");
  NR_TRY(auto proof, check_shipped_code(ctx.profile, ctx.diffs, ctx.result.work));
  if (!proof.refusals.empty()) ctx.refuse(std::move(proof.refusals));
  return ok_status();
}

Status make_livepatch(BuildContext& ctx) {
  ctx.result.module_name = module_name_for(ctx.config, ctx.baseline);
  ctx.result.clock.announce("livepatch module " + ctx.result.module_name);
  NR_TRY(ctx.module, make_module(ctx.profile, ctx.diffs, ctx.result.module_name, ctx.result.work));
  return ok_status();
}

bool signs_module(const BuildContext& ctx) { return !ctx.config.module_sign_key.empty(); }

Status sign_module(BuildContext& ctx) {
  const BuildConfig& config = ctx.config;
  ctx.result.clock.announce("PKCS#7 module signature with " + config.module_sign_cert.string());
  fs::path sign_file = ctx.profile.tree / "scripts/sign-file";
  if (!fs::exists(sign_file))
    return Error(Errc::not_found, sign_file.string() + " is missing: the tree was not prepared with CONFIG_MODULE_SIG");
  fs::path log = ctx.result.work / "sign.log";
  auto signed_ok = run_checked({sign_file.string(), "sha256", fs::absolute(config.module_sign_key).string(),
                                fs::absolute(config.module_sign_cert).string(), ctx.module.string()},
                               {.log = log});
  if (!signed_ok.ok())
    return Error(Errc::invalid_input, "sign-file refused the key or certificate:\n" + tail_of(log) +
                                          "  give a PEM private key and its X.509 certificate");
  return ok_status();
}

Status write_bundle(BuildContext& ctx) {
  const BuildConfig& config = ctx.config;
  const Baseline* baseline = ctx.baseline;
  ctx.result.clock.announce("signed bundle " + config.output.string());
  BundleRequest br{.module = ctx.module, .name = ctx.result.module_name, .key = config.key, .output = config.output};
  if (baseline) {
    br.fixes = baseline->manifest.fixes;
    br.sources = baseline->manifest.sources;
  }
  for (auto& f : fixes_of(config)) br.fixes.push_back(std::move(f));
  br.sources.push_back({config.patch.filename().string(), ctx.patch_text});
  if (config.sequence) {
    br.sequence = *config.sequence;
  } else {
    br.sequence = static_cast<std::uint64_t>(std::time(nullptr));
    if (baseline && br.sequence <= baseline->manifest.sequence) br.sequence = baseline->manifest.sequence + 1;
    log::info("[bundle] no --sequence given: using {} (the current time{}), so this bundle replaces earlier ones",
              br.sequence, baseline ? ", or above the earlier patch's" : "");
  }
  ctx.result.sequence = br.sequence;
  NR_TRY(ctx.result.bundle, write_signed_bundle(ctx.profile, br));
  return ok_status();
}

}  // namespace noreboot::builder
