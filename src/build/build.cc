#include "build/build.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "build/livepatch.h"
#include "build/process.h"
#include "build/shipped_check.h"
#include "build/text_file.h"
#include "core/log.h"

namespace noreboot::build {
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

Result<BuildResult> run_build(const BuildConfig& config) {
  BuildResult result;
  StepClock& clock = result.clock;

  // Read the fix first: a bad patch should fail before minutes of downloads.
  if (config.patch.empty()) return Error(Errc::invalid_argument, "no fix given: --patch FIX.patch");
  NR_TRY(auto patch_text, read_text(config.patch));
  NR_TRY(auto patch, parse_patch(patch_text, config.patch.string()));
  if (config.stop == BuildConfig::Stop::bundle && config.output.empty())
    return Error(Errc::invalid_argument, "no output given: -o OUT.nrp");

  // units: classify every file of the fix; refusals are collected, not returned one by one.
  TouchedFiles touched = classify_files(patch);
  for (const auto& i : touched.ignored) log::info("[units] ignored {}", i);
  result.refusals = touched.refusals;
  if (!result.refusals.empty()) {
    result.outcome = Outcome::refused;
    return result;
  }
  if (touched.sources.empty()) {
    log::info("[units] the fix changes no kernel C source");
    result.outcome = Outcome::no_change;
    return result;
  }

  // prepare: the kernel tree (cached per ABI).
  NR_TRY(auto profile, resolve_profile(config, clock));
  NR_TRY(result.work, make_work_dir(config));
  log::info("[work] {}", result.work.string());

  std::vector<Unit> units;
  for (const auto& s : touched.sources) {
    if (!fs::exists(profile.tree / s))
      return Error(Errc::invalid_input, "the fix changes " + s + ", which is not in the " + profile.abi +
                                            " source: is the patch for this kernel?");
    units.push_back({.source = s, .object = object_of(s)});
  }

  CompileOptions co{.jobs = config.jobs, .work = result.work, .clock = &clock};
  fs::path modules_order = profile.moddir.empty() ? fs::path() : profile.moddir / "modules.order";

  // stage before record: a fix that does not apply should not cost a Kbuild run.
  clock.begin("stage", "applying the fix to copies of " + std::to_string(patch.files.size()) + " file(s)");
  NR_TRY_STATUS(stage_sources(profile, patch, config.patch, co));
  clock.end("stage");

  NR_TRY_STATUS(record_commands(profile, units, modules_order, co));
  for (const auto& u : units) log::info("[units] {} -> {}", u.source, u.owner);

  NR_TRY(result.units, compile_units(profile, units, co));
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
  std::string name = config.name.empty() ? default_module_name(config.patch) : config.name;
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

  // bundle: manifest with the image's identity, signed.
  clock.begin("bundle", "signed bundle " + config.output.string());
  BundleRequest br{.module = module, .name = name, .fixes = config.fixes, .key = config.key, .output = config.output};
  if (config.sequence) {
    br.sequence = *config.sequence;
  } else {
    br.sequence = static_cast<std::uint64_t>(std::time(nullptr));
    log::info("[bundle] no --sequence given: using the current time, {}, so this bundle replaces earlier ones", br.sequence);
  }
  NR_TRY(result.bundle, write_signed_bundle(profile, br));
  clock.end("bundle");
  return result;
}

}  // namespace noreboot::build
