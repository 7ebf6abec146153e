// What the agent concludes when it starts: was it killed mid-step, did the machine reboot,
// and did the previous boot die right after a patch was loaded (crash-loop guard)?
//
// Problem: a patch that crashes the kernel would, if reapplied at every boot, turn one bad
// patch into a machine that never stays up. A killed agent must also not leave a state that
// lies (journal says "loading" forever, or a patch is live that state.json does not know).
//
// Approach: a pure function over the facts read at start (journal, state, current boot id,
// the boot id of the last clean shutdown, the clock, the patches the kernel shows). Same boot:
// reconcile the journal with what the kernel shows (a load that finished after the agent was
// killed is recorded as live; one that did not is recorded as failed). New boot: the previous
// boot ended uncleanly (no clean-shutdown marker for it) while a bundle was loading, in
// transition, being reverted, or live for less than `settle_seconds` (measured up to the last
// moment the agent was known alive in that boot: its last check-in) -> that bundle is
// quarantined: it is never loaded again automatically, and status says why. An operator can
// still apply it by hand. Being pure, every case is a unit test; the caller does the I/O.
//
// Trade-off: without a heartbeat we cannot know when exactly the previous boot died; a patch
// still in "live" (not yet "stable") when the machine went down is treated as the suspect.
// That can quarantine an innocent patch after an unrelated crash in its first minutes; the
// opposite error (reloading a patch that panics) is far worse.
#pragma once

#include <string>
#include <vector>

#include "agent/kernel_interface.h"
#include "agent/state.h"

namespace noreboot::agent {

struct StartupFacts {
  Journal journal;
  AgentState state;
  std::string boot_id;
  std::string clean_shutdown_boot;
  int64_t now = 0;
  int64_t settle_seconds = 120;
  std::vector<LivepatchInfo> live_patches;  // what /sys/kernel/livepatch shows now
};

struct StartupDecision {
  Journal journal;           // updated journal to save
  AgentState state;          // updated state to save
  bool rebooted = false;     // the journal was written in an earlier boot
  bool changed = false;      // journal or state differ from the facts (save them)
  bool reapply_allowed = false;  // last-good bundle may be reloaded automatically now
  std::string report;        // a sentence or two for logs and status; "" when nothing happened
};

StartupDecision assess_startup(const StartupFacts& facts);

}  // namespace noreboot::agent
