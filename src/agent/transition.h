// Following a livepatch transition, and what to do when it does not finish.
//
// After finit_module, klp_enable_patch() has started the transition: every task must be
// switched to the patched functions, which the kernel does for a task only when none of the
// functions being replaced is on its stack. A task that sleeps inside such a function blocks
// the transition indefinitely (the kernel retries once a second). The kernel offers three
// levers: .../signal (a fake signal that wakes interruptible sleepers so they pass through a
// safe point), writing 0 to .../enabled (reverse the transition: tasks go back to the original
// code) and .../force (mark every task as switched: unsafe, never used by noreboot).
//
// Approach: poll .../transition every `poll_seconds` until it reads 0 or `transition_seconds`
// pass; then record the blocking tasks (/proc/<pid>/task/<tid>/patch_state != target, with
// their stacks), signal (write .../signal where it exists; since Linux 5.1 the kernel sends the
// fake signal itself after 15 s of transition, so the wait is stretched to cover that), wait
// `signal_seconds`; if still running, record the blockers again,
// reverse, and wait `reverse_seconds` for the patch to be freed. The caller gets the outcome
// and the blockers to report; it unloads the module after a reversal.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/kernel_interface.h"

namespace noreboot::agent {

struct TransitionTimeouts {
  double transition_seconds = 60;
  double signal_seconds = 15;
  double reverse_seconds = 60;
  double poll_seconds = 0.1;
};

enum class TransitionResult {
  completed,               // finished on its own
  completed_after_signal,  // finished after .../signal
  reversed,                // did not finish; reversed, the patch is gone
  stuck,                   // did not finish and the reversal did not finish either
};
std::string_view transition_result_name(TransitionResult r);

struct TransitionOutcome {
  TransitionResult result = TransitionResult::completed;
  double seconds = 0;                // from the start of following to the end
  std::vector<BlockedTask> blocked;  // the tasks that blocked it (empty when completed)
};

using ProgressFn = std::function<void(const std::string&)>;

// Follows the transition of patch `name` towards the patched state.
Result<TransitionOutcome> follow_transition(KernelInterface& kernel, const std::string& name,
                                            const TransitionTimeouts& t, const ProgressFn& progress);

// Waits until /sys/kernel/livepatch/<name> is gone (a disabled or reversed patch is freed).
// Errc::timeout with the blocking tasks named when it is not gone in time.
Status wait_patch_gone(KernelInterface& kernel, const std::string& name, double seconds,
                       double poll_seconds = 0.1);

// Unloads a module whose patch was freed, retrying while the kernel still holds it (the
// patch is freed asynchronously, so delete_module can briefly say EBUSY).
Status unload_when_free(KernelInterface& kernel, const std::string& name, double seconds,
                        double poll_seconds = 0.1);

// "comm (pid N, patch_state S)\n<stack>" for each task: for reports and errors.
std::string describe_blocked(const std::vector<BlockedTask>& tasks);

// The kernel log lines among `records` that mean trouble: warnings, BUGs, oopses, panics,
// general protection faults, RCU stalls, livepatch errors.
std::vector<std::string> kernel_trouble(const std::vector<KmsgRecord>& records);

}  // namespace noreboot::agent
