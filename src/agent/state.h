// The agent's durable state in /var/lib/noreboot (or --state-dir).
//
// Problem: the agent can be killed, or the machine can crash, at any instruction, including
// between "the kernel loaded the module" and "the agent wrote that down". The next start must
// tell what happened and must not make it worse (above all: never reload a patch that took
// the machine down).
//
// Approach: three small JSON files, each replaced atomically (temp + fsync + rename):
//   state.json     what is applied (bundle hash, sequence, patch name, the boot it was loaded
//                  in), the highest sequence ever applied per kernel build (rollback guard),
//                  quarantined bundles (crash-loop guard), last check-in, last outcome, blocked
//                  tasks and kernel warnings of the last apply;
//   journal.json   the step in progress: downloaded -> verifying -> loading -> transition ->
//                  live -> stable, or reverting / failed, with the boot id and the time the step
//                  began. It is written BEFORE each kernel operation, so after a kill or crash
//                  it says what may have been in flight;
//   clean-shutdown the boot id of the last boot in which the daemon stopped cleanly (SIGTERM).
// plus bundles/last-good.nrp, the bundle that was last live (reapplied after a reboot), and
// credential.json (0600) from enrollment. A lock file serialises agents and commands.
//
// Trade-off: JSON rather than SQLite keeps the agent small and the files readable by an
// operator with `cat`; the state is a few kilobytes, so rewriting it whole is cheap.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/kernel_interface.h"
#include "core/file_lock.h"
#include "core/result.h"

namespace noreboot::agent {

enum class Step { idle, downloaded, verifying, loading, transition, live, stable, reverting, failed };
std::string_view step_name(Step s);
std::optional<Step> step_from_name(std::string_view s);

struct AppliedPatch {
  std::string patch_name;       // module name = /sys/kernel/livepatch/<name>
  std::string bundle_sha256;    // of the .nrp file
  uint64_t sequence = 0;
  std::string kernel_release;
  std::string kernel_build_id;
  std::vector<std::string> fixes;  // what the bundle says it fixes (CVE ids, titles)
  std::string boot_id;          // boot in which it was loaded
  int64_t applied_at = 0;       // unix seconds
};

struct Quarantine {
  std::string bundle_sha256;
  std::string patch_name;
  std::string reason;
  int64_t at = 0;
};

struct AgentState {
  std::optional<AppliedPatch> applied;             // last patch that went live
  std::map<std::string, uint64_t> highest_sequence;  // kernel build id -> highest applied
  // kernel build id -> the bundle that went live at that highest sequence: the same bundle may
  // be applied again after `noreboot revert` (other content at that sequence may not).
  std::map<std::string, std::string> highest_sha256;
  std::vector<Quarantine> quarantined;
  int64_t last_checkin = 0;
  std::string last_checkin_result;
  std::string last_outcome;                        // one line: what the last apply/revert did
  bool last_outcome_ok = true;
  std::vector<BlockedTask> last_blocked;           // tasks that blocked the last transition
  std::vector<std::string> kernel_warnings;        // kernel log lines after the last load
  std::string startup_report;                      // what the last start found (crash guard)

  const Quarantine* quarantine_for(const std::string& sha) const;
};

struct Journal {
  Step step = Step::idle;
  std::string bundle_sha256;
  std::string patch_name;
  uint64_t sequence = 0;
  std::string boot_id;
  int64_t since = 0;            // unix seconds when this step began
  std::string detail;
  std::optional<AppliedPatch> candidate;  // the patch being loaded (promoted to applied when live)
};

nlohmann::json to_json(const AppliedPatch& a);
nlohmann::json to_json(const AgentState& s);
Result<AgentState> state_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Journal& j);
Result<Journal> journal_from_json(const nlohmann::json& j);
nlohmann::json to_json(const BlockedTask& t);

class StateStore {
 public:
  explicit StateStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  Status init();                          // creates the folder (0700) and bundles/
  Result<AgentState> load_state() const;  // empty state when there is none yet
  Status save_state(const AgentState& s) const;
  Result<Journal> load_journal() const;   // idle journal when there is none yet
  // durable = false skips the fsyncs: for steps whose loss in a machine crash is harmless
  // (nothing was loaded yet); the write is still atomic.
  Status save_journal(const Journal& j, bool durable = true) const;
  Status set_step(Journal j, Step step, int64_t now, std::string detail = {}, bool durable = true) const;

  std::filesystem::path last_good_path() const { return dir_ / "bundles/last-good.nrp"; }
  Status save_last_good(std::string_view bundle_bytes) const;

  Status mark_clean_shutdown(const std::string& boot_id) const;
  std::string clean_shutdown_boot() const;  // "" when never

  std::filesystem::path credential_path() const { return dir_ / "credential.json"; }

 private:
  std::filesystem::path dir_;
};

// An exclusive lock on <state dir>/lock held for the life of the result (core FileLock), so the
// daemon and a command run by hand never change the kernel at the same time. Without `wait`, a
// busy lock is Errc::conflict.
Result<FileLock> acquire_state_lock(const std::filesystem::path& dir, bool wait);

int64_t unix_now();

}  // namespace noreboot::agent
