// Prometheus textfile metrics (node_exporter's textfile collector reads the file).
//
// Written at the end of every run, atomically (a scrape never sees half a file): when the
// feed last ran and last succeeded, whether the last run succeeded, and counters of fixes
// found, built, tested, published and failures since the feed's state was created (kept in
// the state, so they survive restarts as counters should).
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"
#include "feed/state.h"

namespace noreboot::feed {

std::string metrics_text(const FeedState& state, bool last_run_ok);
Status write_metrics(const std::filesystem::path& file, const FeedState& state, bool last_run_ok);

}  // namespace noreboot::feed
