// The passes of one build, in the order run_build (build.cc) runs them. Each says what it does,
// what it reads from the BuildContext and what it writes there. "Ends" means the pass may
// decide the outcome (ctx.stop), after which no further pass runs.
#pragma once

#include "builder/build_context.h"
#include "core/result.h"

namespace noreboot::builder {

// fix: reads the fix (--patch), checks that it is UTF-8 (it travels in the signed manifest)
// and parses it; checks -o. First, so a bad patch fails before minutes of downloads.
// Reads config. Writes patch_text, patch.
Status read_fix(BuildContext& ctx);

// units: classifies every file of the fix (.c → unit, .h → headers pass, the rest refused or
// ignored with a reason), still before anything is downloaded.
// Reads patch. Writes touched. Ends: refused.
Status classify_units(BuildContext& ctx);

// prepare: the kernel profile from --kernel (fetched and prepared once per ABI, cached;
// sub-steps fetch, prepare:untar, prepare:config, prepare:make) or --tree.
// Reads config. Writes profile, result.abi, result.version.
Status prepare_kernel(BuildContext& ctx);

// baseline (with --on-top-of): the earlier cumulative patch for this kernel; its fixes come
// first, and the files they touch join this build's.
// Reads config.baselines, profile, patch. Writes baseline, touched. Ends: refused.
Status pick_baseline(BuildContext& ctx);
bool has_baselines(const BuildContext& ctx);

// work: the work folder (--keep-work, or a temporary one) and every fix written into it.
// Reads touched, config, baseline, patch. Writes result.work, fixes, sources, compile.
// Ends: no change (the fixes touch no kernel C source or header).
Status make_work(BuildContext& ctx);

// stage: earlier fixes and this one applied to copies of the touched files (WORK/src-orig,
// WORK/src-patched; the cached tree stays pristine). Before record: a fix that does not apply
// should not cost a Kbuild run.
// Reads profile, fixes, compile. Writes WORK/src-*. Ends: already fixed, does not apply.
Status stage_fixes(BuildContext& ctx);

// headers (when the fix changes a header): the units the change reaches, from the kernel's
// header index (built once per kernel), compiled like touched files.
// Reads touched.headers, profile, WORK/src-*. Writes sources, compile.headers.
// Ends: refused (a change no unit set can be named for), no change.
Status reach_header_units(BuildContext& ctx);
bool changes_headers(const BuildContext& ctx);

// record: Kbuild's exact command and owner (vmlinux or a module) of every unit; the first
// build of a unit for a kernel runs Kbuild in the cached tree (sub-step kbuild).
// Reads sources, profile, compile. Writes units.
Status record_units(BuildContext& ctx);

// compile: every unit, original and patched, on the fast path; each original checked equal to
// Kbuild's object. Reads units, profile, compile. Writes result.units.
// Ends: refused (the fix does not compile), no change, and the `compile` subcommand stops here.
Status compile_objects(BuildContext& ctx);

// diff: src/diff on every changed object pair; the refusals of all units together.
// Reads result.units. Writes diffs. Ends: refused, no change.
Status diff_objects_pass(BuildContext& ctx);

// verify: the original of every replaced function equals the code the target kernel runs
// (shipped_check.h). Reads profile, diffs. Ends: refused.
Status verify_shipped(BuildContext& ctx);

// klp: one livepatch module for every patched object (src/klp).
// Reads profile, diffs, config.name, baseline. Writes module, result.module_name.
Status make_livepatch(BuildContext& ctx);

// sign (with --module-sign-key): the kernel's scripts/sign-file appends a PKCS#7 signature,
// as `make modules_install` would (Secure Boot hosts, module.sig_enforce=1).
// Reads config, profile, module. Writes module (in place).
Status sign_module(BuildContext& ctx);
bool signs_module(const BuildContext& ctx);

// bundle: the manifest (the image's identity, sequence, every fix and its text), signed, with
// the module, written to -o. Reads module, config, baseline, patch_text, profile.
// Writes result.bundle, result.sequence.
Status write_bundle(BuildContext& ctx);

}  // namespace noreboot::builder
