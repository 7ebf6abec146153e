// One run of the feed: what is new in Debian's archive, then, for each new version, oldest
// first, the steps derive -> build -> test -> publish -> roll out, each recorded in the state
// as it completes (state.h), so a run that stops (killed, server down, a failing step) is
// continued by the next one from the step it did not finish.
//
// A version is finished when it is done or recorded as a stable update that needs per-CVE
// patches; only then does `processed_up_to` move past it. A failing step stops the run (later
// versions are cumulative on top of this one, so they must not overtake it) and the run exits
// 1 with the reason; the next run retries that step.
#pragma once

#include <iosfwd>

#include "feed/config.h"

namespace noreboot::feed {

// Exit codes: 0 done (or nothing new), 1 a step failed (state says which; the next run
// resumes), 3 another run holds the lock.
int run_feed(const FeedConfig& config, std::ostream& out, std::ostream& err);

// `noreboot-feed status [--json]`: what the state says.
int show_status(const FeedConfig& config, bool as_json, std::ostream& out, std::ostream& err);

}  // namespace noreboot::feed
