// The feed's memory: what it has processed and how far each version got.
//
// Problem: one version's work takes an hour (derive, build per kernel, boot per kernel,
// publish) and the feed may be killed or the machine rebooted at any point. The next run must
// continue where the last stopped, never redo a published step in a way that duplicates it,
// and never skip one.
// Approach: DATA/state.json, rewritten whole after every step (temp file, fsync, rename: a
// reader sees the old state or the new, never half of one). Each version has the steps done
// so far, in order (derived, built, tested, published, rolled_out), and the per-kernel test
// results, so a run that died mid-test boots only the kernels not yet tested. Step outputs live
// in DATA/versions/<version>/ and are made under temporary names renamed into place, so "step
// recorded" implies "its output is complete". `processed_up_to` moves only when a version is
// finished (done, or recorded as a stable update that needs per-CVE patches).
// DATA/lock (flock, non-blocking) keeps two runs from overlapping; the kernel drops it when a
// run dies, so a killed run leaves no stale lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/file_lock.h"
#include "core/result.h"
#include "feed/changelog.h"

namespace noreboot::feed {

inline constexpr const char* kSteps[] = {"derived", "built", "tested", "published", "rolled_out"};

struct VersionState {
  std::string version;                 // the new Debian version, e.g. 6.1.192-3
  std::string from;                    // the version it is compared with
  std::string status = "in_progress";  // in_progress, done, needs_fix_patch, failed, rejected
  std::vector<std::string> steps;      // done so far, in the order of kSteps
  std::vector<ChangelogFix> fixes;
  std::vector<std::string> cves;
  std::vector<std::string> kernels;            // what it was built for (debian ABIs)
  std::map<std::string, std::string> tests;    // ABI -> "passed" or "failed: reason"
  std::string message;                 // the last thing worth telling an operator
  // A work item from the inbox (inbox.h): the CVE its patch fixes; `version` is then
  // STABLE+CVE and `from` the stable update. Status "rejected": its patch applied nowhere.
  std::string inbox_cve;
  std::string updated;                 // RFC 3339

  bool has_step(const std::string& step) const;
  void add_step(const std::string& step);
};

struct Counters {
  std::uint64_t found = 0, built = 0, tested = 0, published = 0, failures = 0;
  std::uint64_t audit_failures = 0;  // audit entries the server did not take (the run went on)
};

struct FeedState {
  std::string processed_up_to;         // the newest version finished
  std::vector<VersionState> versions;  // oldest first
  Counters counters;
  std::int64_t last_run = 0, last_success = 0;
  std::string last_result;

  VersionState* find(const std::string& version);
};

Result<FeedState> parse_state(std::string_view text, std::string_view source);
std::string serialize_state(const FeedState& state);
// DATA/state.json; a missing file is an empty state.
Result<FeedState> load_state(const std::filesystem::path& data_dir);
Status save_state(const std::filesystem::path& data_dir, const FeedState& state);

// Takes DATA/lock (core FileLock, released when the result is destroyed); conflict, naming the
// holder's pid, when another run has it.
Result<FileLock> acquire_run_lock(const std::filesystem::path& data_dir);

}  // namespace noreboot::feed
