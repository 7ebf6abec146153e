// noreboot-feed's command line: `run --config FILE`, `status --config FILE [--json]`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace noreboot::feed {

// Exit codes: as run_feed (run.h); 2 for usage and configuration errors.
int feed_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace noreboot::feed
