#include "agent/apply.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/fs_util.h"
#include "agent/modinfo.h"
#include "agent/startup.h"
#include "agent/verify.h"
#include "core/bundle.h"
#include "core/log.h"

namespace noreboot::agent {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

TransitionTimeouts timeouts_of(const AgentConfig& c) {
  return TransitionTimeouts{c.transition_seconds, c.signal_seconds, c.reverse_seconds, 0.1};
}

// An fd holding the module for finit_module: an anonymous memory file, so nothing is left on
// disk; a file in the state folder if memfd is unavailable.
Result<int> module_fd(const AgentContext& ctx, const std::string& name, ByteView module) {
  int fd = ::memfd_create(("noreboot-" + name).c_str(), MFD_CLOEXEC);
  std::filesystem::path tmp;
  if (fd < 0) {
    tmp = ctx.store.dir() / "bundles" / (name + ".ko");
    NR_TRY_STATUS(write_text(tmp, as_chars(module), {.mode = 0600}));
    fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(Errc::io, "cannot open " + tmp.string() + ": " + errno_text(errno));
    return fd;
  }
  size_t off = 0;
  while (off < module.size()) {
    ssize_t n = ::write(fd, module.data() + off, module.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error(Errc::io, "cannot write the module to a memfd: " + errno_text(err));
    }
    off += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

std::string kernel_lines(KmsgCursor& cursor) {
  auto recs = cursor.read_new();
  if (!recs.ok() || recs->empty()) return "";
  std::string out = "\nkernel log:";
  for (const auto& r : *recs) out += "\n  " + r.text;
  return out;
}

Status fail_step(AgentContext& ctx, AgentState& state, Journal& journal, const std::string& why, bool ok_outcome = false) {
  journal.candidate.reset();
  state.last_outcome = why;
  state.last_outcome_ok = ok_outcome;
  NR_TRY_STATUS(ctx.store.save_state(state));
  return ctx.store.set_step(journal, Step::failed, unix_now(), why);
}

// The kernel step of apply_bundle, for a bundle verify_for_host accepted: one apply's
// working set, passed down as one object.
struct ApplyRun {
  AgentContext& ctx;
  ByteView bundle;
  const BundleContents& contents;
  const KernelIdentity& running;
  AgentState& state;
  Journal& journal;
  ApplyReport& report;
  const std::string& boot_id;
  Clock::time_point t_start;
};

// journal "loading" (the crash-loop guard's record) -> finit_module -> follow the transition
// (reverse on timeout) -> journal "live", state and last-good saved -> the replaced module
// unloaded -> the kernel log watched for trouble.
Result<ApplyReport> load_and_follow(ApplyRun& run) {
  AgentContext& ctx = run.ctx;
  AgentState& state = run.state;
  Journal& journal = run.journal;
  ApplyReport& report = run.report;
  const Manifest& m = run.contents.manifest;
  const std::string& build_id = run.running.build_id;

  AppliedPatch pending{m.name, report.bundle_sha256, m.sequence, run.running.release, build_id, {},
                       run.boot_id, unix_now()};
  for (const auto& f : m.fixes) pending.fixes.push_back(f.description.empty() ? f.id : f.id + ": " + f.description);
  std::string previous = state.applied ? state.applied->patch_name : "";
  // The crash-loop guard's record: durable before the kernel sees the module.
  journal.candidate = pending;
  NR_TRY_STATUS(ctx.store.set_step(journal, Step::loading, unix_now()));
  NR_TRY(auto kmsg, ctx.kernel->kmsg_tail());
  NR_TRY(int fd, module_fd(ctx, m.name, run.contents.module));
  report.prep_ms = ms_since(run.t_start);
  auto t_load = Clock::now();
  Status loaded = ctx.kernel->load_module(fd, "");
  report.load_ms = ms_since(t_load);
  ::close(fd);
  if (!loaded.ok()) {
    Error e = Error(loaded.error().code(), loaded.error().message() + kernel_lines(*kmsg))
                  .context("loading " + m.name);
    (void)fail_step(ctx, state, journal, e.message());
    return e;
  }
  ctx.progress("loaded " + m.name + " (sequence " + std::to_string(m.sequence) + ") in " +
               log::format("{}", static_cast<int>(report.load_ms)) + " ms; following its transition");

  NR_TRY_STATUS(ctx.store.set_step(journal, Step::transition, unix_now()));
  auto outcome = follow_transition(*ctx.kernel, m.name, timeouts_of(ctx.config), ctx.progress);
  if (!outcome.ok()) {
    (void)fail_step(ctx, state, journal, outcome.error().message());
    return std::move(outcome).error().context("following the transition of " + m.name);
  }
  report.transition = *outcome;
  state.last_blocked = outcome->blocked;
  if (outcome->result == TransitionResult::reversed || outcome->result == TransitionResult::stuck) {
    std::string why = "the transition of " + m.name + " did not finish in " +
                      log::format("{}", ctx.config.transition_seconds) + " s nor after signalling; " +
                      (outcome->result == TransitionResult::reversed ? "reversed" : "reversal did NOT finish") +
                      ". Blocking tasks:\n" + describe_blocked(outcome->blocked);
    if (outcome->result == TransitionResult::reversed) {
      Status unloaded = unload_when_free(*ctx.kernel, m.name, ctx.config.reverse_seconds);
      if (!unloaded.ok()) why += "\nunloading " + m.name + " failed: " + unloaded.error().message();
    }
    (void)fail_step(ctx, state, journal, why);
    return Error(Errc::timeout, why);
  }

  // Live.
  state.applied = pending;
  journal.candidate.reset();
  uint64_t& hs = state.highest_sequence[build_id];
  if (m.sequence >= hs) state.highest_sha256[build_id] = report.bundle_sha256;
  hs = std::max(hs, m.sequence);
  NR_TRY_STATUS(ctx.store.save_last_good(as_chars(run.bundle)));
  state.last_outcome = "applied " + m.name + " (sequence " + std::to_string(m.sequence) + ")";
  state.last_outcome_ok = true;
  state.kernel_warnings.clear();
  NR_TRY_STATUS(ctx.store.save_state(state));
  NR_TRY_STATUS(ctx.store.set_step(journal, Step::live, unix_now()));

  // The replaced patch's module is free once the kernel dropped its patch.
  if (!previous.empty() && previous != m.name) {
    auto still = ctx.kernel->module_loaded(previous);
    if (still.ok() && *still) {
      Status s = unload_when_free(*ctx.kernel, previous, ctx.config.reverse_seconds);
      if (!s.ok()) log::warn("could not unload the replaced module {}: {}", previous, s.error().message());
    }
  }

  // Watch the kernel log for trouble for a while.
  auto t_watch = Clock::now();
  std::vector<KmsgRecord> since_load;
  for (;;) {
    auto recs = kmsg->read_new();
    if (recs.ok()) {
      since_load.insert(since_load.end(), recs->begin(), recs->end());
      report.kernel_warnings = kernel_trouble(since_load);
    }
    if (ms_since(t_watch) >= ctx.config.watch_seconds * 1000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!report.kernel_warnings.empty()) {
    state.kernel_warnings = report.kernel_warnings;
    state.last_outcome += "; the kernel logged " + std::to_string(report.kernel_warnings.size()) +
                          " warning(s) after the load";
    NR_TRY_STATUS(ctx.store.save_state(state));
  }
  report.summary = "applied " + m.name + " (sequence " + std::to_string(m.sequence) + "): transition " +
                   std::string(transition_result_name(outcome->result)) + " in " +
                   log::format("{}", static_cast<int>(outcome->seconds * 1000)) + " ms";
  return report;
}

}  // namespace

Result<StartupDecision> reconcile_at_start(AgentContext& ctx) {
  NR_TRY_STATUS(ctx.store.init());
  StartupFacts f;
  NR_TRY(f.journal, ctx.store.load_journal());
  NR_TRY(f.state, ctx.store.load_state());
  NR_TRY(f.boot_id, ctx.kernel->boot_id());
  f.clean_shutdown_boot = ctx.store.clean_shutdown_boot();
  f.now = unix_now();
  f.settle_seconds = ctx.config.settle_seconds;
  NR_TRY(f.live_patches, ctx.kernel->list_livepatches());
  StartupDecision d = assess_startup(f);
  if (d.changed) {
    NR_TRY_STATUS(ctx.store.save_state(d.state));
    NR_TRY_STATUS(ctx.store.save_journal(d.journal));
  }
  if (!d.report.empty()) log::info("{}", d.report);
  return d;
}

Result<ApplyReport> apply_bundle(AgentContext& ctx, ByteView bundle, const ApplyOptions& opt) {
  auto t_start = Clock::now();
  ApplyReport report;
  report.bundle_sha256 = sha256_hex(bundle);
  NR_TRY(std::string boot_id, ctx.kernel->boot_id());
  NR_TRY(AgentState state, ctx.store.load_state());
  Journal journal;
  journal.bundle_sha256 = report.bundle_sha256;
  journal.boot_id = boot_id;
  NR_TRY_STATUS(ctx.store.set_step(journal, Step::verifying, unix_now(), {}, /*durable=*/false));

  // The checks (verify.h), on facts read here: nothing is loaded unless all pass.
  HostFacts facts;
  facts.trust = &ctx.trust;
  facts.running = read_running_kernel(ctx.root);
  NR_TRY(facts.live_patches, ctx.kernel->list_livepatches());
  facts.state = &state;
  HostVerdict verdict = verify_for_host(bundle, report.bundle_sha256, facts, opt.automatic);
  if (verdict.contents) {
    journal.patch_name = verdict.contents->manifest.name;
    journal.sequence = verdict.contents->manifest.sequence;
    report.manifest = verdict.contents->manifest;
  }
  if (!verdict.accepted()) {
    Error out = std::move(verdict.refusal).error().context(opt.origin.empty() ? "bundle" : opt.origin);
    (void)fail_step(ctx, state, journal, "refused: " + out.message());
    return out;
  }
  if (verdict.already_live) {
    const Manifest& m = verdict.contents->manifest;
    report.already_live = true;
    report.summary = m.name + " (sequence " + std::to_string(m.sequence) + ") is already live";
    NR_TRY_STATUS(ctx.store.set_step(journal, Step::live, unix_now()));
    return report;
  }
  ApplyRun run{ctx, bundle, *verdict.contents, verdict.running, state, journal, report, boot_id, t_start};
  return load_and_follow(run);
}

Result<RevertReport> revert_applied(AgentContext& ctx) {
  auto t0 = Clock::now();
  NR_TRY(AgentState state, ctx.store.load_state());
  NR_TRY(std::string boot_id, ctx.kernel->boot_id());
  NR_TRY(auto live, ctx.kernel->list_livepatches());
  std::string name;
  if (state.applied) name = state.applied->patch_name;
  bool present = false;
  for (const auto& p : live) present |= p.name == name;
  if (name.empty() || !present) {
    std::string others;
    for (const auto& p : live) others += (others.empty() ? "" : ", ") + p.name;
    return Error(Errc::not_found,
                 name.empty() ? "nothing to revert: no patch applied by noreboot" +
                                    (others.empty() ? std::string() : " (the kernel shows " + others + ", not noreboot's)")
                              : "nothing to revert: " + name + " is not loaded in the running kernel");
  }
  Journal journal;
  journal.bundle_sha256 = state.applied->bundle_sha256;
  journal.patch_name = name;
  journal.sequence = state.applied->sequence;
  journal.boot_id = boot_id;
  NR_TRY_STATUS(ctx.store.set_step(journal, Step::reverting, unix_now()));
  ctx.progress("disabling " + name + " and waiting for the unpatching transition");
  if (Status s = ctx.kernel->disable_livepatch(name); !s.ok()) {
    (void)fail_step(ctx, state, journal, s.error().message());
    return std::move(s).error().context("reverting " + name);
  }
  if (Status s = wait_patch_gone(*ctx.kernel, name, ctx.config.reverse_seconds); !s.ok()) {
    (void)fail_step(ctx, state, journal, s.error().message());
    return std::move(s).error().context("reverting " + name);
  }
  NR_TRY_STATUS(unload_when_free(*ctx.kernel, name, ctx.config.reverse_seconds));
  state.applied.reset();
  state.last_outcome = "reverted " + name;
  state.last_outcome_ok = true;
  state.last_blocked.clear();
  state.kernel_warnings.clear();
  std::error_code ec;
  std::filesystem::remove(ctx.store.last_good_path(), ec);
  NR_TRY_STATUS(ctx.store.save_state(state));
  NR_TRY_STATUS(ctx.store.set_step(journal, Step::idle, unix_now()));
  RevertReport r;
  r.patch_name = name;
  r.seconds = ms_since(t0) / 1000;
  r.summary = "reverted " + name + " in " + log::format("{}", static_cast<int>(ms_since(t0))) + " ms";
  return r;
}

}  // namespace noreboot::agent
