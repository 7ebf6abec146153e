// The inbox: per-CVE fix patches for Debian stable updates the feed cannot split on its own.
//
// Problem: a stable update (6.1.190 -> 6.1.192-1 changed about 1,900 files) is recorded as
// "needs a fix patch" with the CVEs its changelog lists: without upstream history the feed
// cannot tell which changed lines fix which CVE. A person (or another tool) can: they drop one
// patch per CVE, and the feed must take it from there exactly as it does for a small security
// update (build for the fleet, test in QEMU, publish one fix per CVE, roll out), without ever
// retrying a file that cannot work.
// Approach: DATA/inbox/ holds CVE-YYYY-NNNN.patch and, optionally, CVE-YYYY-NNNN.check.sh (run
// with sh in the guest while the patch is live during the QEMU smoke test; exit 0 = passed).
// Each run, after the new Debian versions, takes every patch in the inbox:
//   - a name that is not CVE-....patch / CVE-....check.sh, a CVE no stable update waits for,
//     or a file that is not a unified diff is moved to DATA/inbox/rejected/ with NAME.why
//     saying what was wrong and what to do (so it is never retried; `noreboot-feed status`
//     lists the rejections);
//   - an accepted patch becomes a work item in the state: the "version" STABLE+CVE (e.g.
//     6.1.192-1+CVE-2026-1001), from the stable version, with the CVE as its one fix and the
//     changelog's description; the patch (and check) are copied into its folder first, the
//     item recorded as derived, and only then is the inbox file removed: a kill at any point
//     leaves either the file in the inbox (taken again) or the item (continued).
// The item then goes through build, test, publish and roll-out like a version. A patch that
// applies to no fleet kernel is rejected after the build (moved to rejected/ with the reason,
// nothing published); dropping a corrected patch with the same name starts the CVE again.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/result.h"
#include "feed/state.h"

namespace noreboot::feed {

// "CVE-2026-12345.patch" -> "CVE-2026-12345"; nullopt for any other name.
std::optional<std::string> inbox_patch_cve(std::string_view file_name);
// "CVE-2026-12345.check.sh" -> "CVE-2026-12345"; nullopt for any other name.
std::optional<std::string> inbox_check_cve(std::string_view file_name);
// True when `text` is a unified diff: a "--- " line, then "+++ ", then an "@@ " hunk header.
bool looks_like_unified_diff(std::string_view text);
// The work item name of a CVE taken from the inbox for stable version `stable`.
std::string inbox_item_name(const std::string& stable, const std::string& cve);

// Moves DATA/inbox/NAME (and its check script, for a patch) to DATA/inbox/rejected/ with
// NAME.why holding `reason`; says so on `out`.
Status reject_inbox_file(const std::filesystem::path& data_dir, const std::string& name, const std::string& reason,
                         std::ostream& out);

// Takes every file of DATA/inbox (see above): rejects the bad ones, turns the good ones into
// work items of `state` (saved before the inbox file is removed). Returns how many were taken.
Result<int> take_inbox(const std::filesystem::path& data_dir, FeedState& state, std::ostream& out);

// The rejections so far: (file name, reason), from DATA/inbox/rejected/*.why.
std::vector<std::pair<std::string, std::string>> inbox_rejections(const std::filesystem::path& data_dir);

}  // namespace noreboot::feed
