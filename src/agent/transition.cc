#include "agent/transition.h"

#include <chrono>
#include <thread>

#include "core/log.h"

namespace noreboot::agent {

namespace {

using Clock = std::chrono::steady_clock;

// kernel/livepatch/transition.c: SIGNALS_TIMEOUT attempts, one a second.
constexpr double kKernelSignalsAfterSeconds = 15;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void nap(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Polls until the transition is over (true), or `seconds` pass (false).
Result<bool> wait_settled(KernelInterface& kernel, const std::string& name, double seconds, double poll) {
  auto t0 = Clock::now();
  for (;;) {
    NR_TRY(auto info, kernel.livepatch(name));
    if (!info || !info->transition) return true;
    if (since(t0) >= seconds) return false;
    nap(poll);
  }
}

}  // namespace

std::string_view transition_result_name(TransitionResult r) {
  switch (r) {
    case TransitionResult::completed: return "completed";
    case TransitionResult::completed_after_signal: return "completed_after_signal";
    case TransitionResult::reversed: return "reversed";
    case TransitionResult::stuck: return "stuck";
  }
  return "?";
}

Result<TransitionOutcome> follow_transition(KernelInterface& kernel, const std::string& name,
                                            const TransitionTimeouts& t, const ProgressFn& progress) {
  auto t0 = Clock::now();
  TransitionOutcome out;
  NR_TRY(bool done, wait_settled(kernel, name, t.transition_seconds, t.poll_seconds));
  if (done) {
    NR_TRY(auto info, kernel.livepatch(name));
    if (!info)
      return Error(Errc::internal, "livepatch " + name + " disappeared during its transition "
                                   "(disabled by someone else?)");
    out.seconds = since(t0);
    return out;
  }

  NR_TRY(out.blocked, kernel.blocked_tasks(1));
  std::string what = "transition of " + name + " not finished after " + log::format("{}", t.transition_seconds) +
                     " s; " + std::to_string(out.blocked.size()) + " task(s) blocking; ";
  double signal_wait = t.signal_seconds;
  Status signalled = kernel.signal_livepatch(name);
  if (!signalled.ok() && signalled.error().code() == Errc::not_found) {
    // Since Linux 5.1 there is no .../signal: the kernel sends the fake signal itself after
    // every 15 unsuccessful attempts (one a second). Wait long enough for it to have done so.
    signal_wait = std::max(signal_wait, kKernelSignalsAfterSeconds + 2 - since(t0));
    progress(what + "signalling them (this kernel does it itself after " +
             log::format("{}", kKernelSignalsAfterSeconds) + " s), waiting " +
             log::format("{}", static_cast<int>(signal_wait + 0.5)) + " s more");
  } else {
    progress(what + "signalling them");
    if (!signalled.ok()) return signalled.error();
  }
  NR_TRY(done, wait_settled(kernel, name, signal_wait, t.poll_seconds));
  if (done) {
    out.result = TransitionResult::completed_after_signal;
    out.seconds = since(t0);
    return out;
  }

  // Still blocked: note who (the list may have changed), then go back.
  NR_TRY(auto still, kernel.blocked_tasks(1));
  if (!still.empty()) out.blocked = std::move(still);
  progress("transition of " + name + " still blocked after the signal; reversing it");
  NR_TRY_STATUS(kernel.disable_livepatch(name));
  Status gone = wait_patch_gone(kernel, name, t.reverse_seconds, t.poll_seconds);
  out.result = gone.ok() ? TransitionResult::reversed : TransitionResult::stuck;
  out.seconds = since(t0);
  return out;
}

Status wait_patch_gone(KernelInterface& kernel, const std::string& name, double seconds, double poll) {
  auto t0 = Clock::now();
  for (;;) {
    NR_TRY(auto info, kernel.livepatch(name));
    if (!info) return ok_status();
    if (since(t0) >= seconds) {
      auto blocked = kernel.blocked_tasks(0);
      return Error(Errc::timeout,
                   "livepatch " + name + " still present after " + log::format("{}", seconds) +
                       " s (transition " + (info->transition ? "running" : "done") + ")" +
                       (blocked.ok() && !blocked->empty() ? "; blocked by:\n" + describe_blocked(*blocked) : ""));
    }
    nap(poll);
  }
}

Status unload_when_free(KernelInterface& kernel, const std::string& name, double seconds, double poll) {
  auto t0 = Clock::now();
  for (;;) {
    Status s = kernel.unload_module(name);
    if (s.ok() || s.error().code() == Errc::not_found) return ok_status();
    if (s.error().code() != Errc::conflict || since(t0) >= seconds) return s;
    nap(poll);
  }
}

std::string describe_blocked(const std::vector<BlockedTask>& tasks) {
  std::string out;
  for (const auto& t : tasks) {
    out += "  " + t.comm + " (pid " + std::to_string(t.pid) + ", patch_state " +
           std::to_string(t.patch_state) + ")\n";
    size_t pos = 0;
    while (pos < t.stack.size()) {
      size_t nl = t.stack.find('\n', pos);
      if (nl == std::string::npos) nl = t.stack.size();
      if (nl > pos) out += "    " + t.stack.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
    }
  }
  return out;
}

std::vector<std::string> kernel_trouble(const std::vector<KmsgRecord>& records) {
  static const char* markers[] = {"WARNING:", "BUG:", "Oops", "general protection fault",
                                  "Kernel panic", "kernel BUG", "rcu_sched detected stall",
                                  "rcu: INFO: rcu_", "watchdog: BUG:", "Call Trace:"};
  std::vector<std::string> out;
  for (const auto& r : records) {
    bool hit = false;
    for (const char* m : markers)
      if (r.text.find(m) != std::string::npos && std::string_view(m) != "Call Trace:") hit = true;
    if (r.level <= 3 && r.text.rfind("livepatch:", 0) == 0) hit = true;
    if (hit) out.push_back(r.text);
  }
  return out;
}

}  // namespace noreboot::agent
