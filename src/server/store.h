// Store: everything the server persists, behind one interface.
//
// Problem: the server must be stateless enough that several instances can share one
// PostgreSQL database, yet run with nothing but a directory (SQLite) by default; and a
// server killed at any point (mid-upload, mid-rollout) must come back consistent. Approach:
// every piece of state (bundles with their bytes, hosts, tokens, rollouts and their stage,
// per-host outcomes, pins, the audit log) lives in the store, changed only through the
// methods below, each one statement or one transaction. Rollout stage changes are
// compare-and-set (`advance_rollout` names the state it expects), so two servers racing to
// advance the same rollout do it once. Bundle bytes are written in the same transaction as
// their row: an interrupted upload leaves nothing visible.
//
// Secrets are never stored: tokens and credentials are kept as SHA-256 hashes and looked up
// by hash. Times are Unix seconds passed in by the caller (the server's injected clock).
//
// Implementations: open_sqlite_store / open_postgres_store (store_sql.cc over sql.h). The
// same test suite (store_test.cc) runs against both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/api_types.h"
#include "core/result.h"

namespace noreboot::server {

struct BundleRecord {
  std::string sha256;
  std::int64_t size = 0;
  std::string patch_name;
  std::int64_t sequence = 0;
  std::string kernel_release;
  std::string kernel_build_id;
  std::string arch;
  std::int64_t created_at = 0;
  bool blocked = false;
  std::string blocked_reason;
  // The fix ids of the bundle's signed manifest (cumulative bundles carry every earlier fix's
  // id). nullopt: not read yet (bundles published before schema 3); the API reads them from the
  // stored bundle once and writes them back (set_bundle_fix_ids).
  std::optional<std::vector<std::string>> fix_ids;
};

// A verified fix record (core/fix_record.h) as stored: its exact bytes and signature, and one
// row per (fix id, kernel) for queries.
struct FixKernelRow {
  std::string fix_id;
  std::string release;
  std::string version;        // Debian version
  std::string outcome;        // core/fix_record.h KernelOutcome names
  std::string bundle_sha256;  // built: the bundle; else ""
  std::string build_id;       // built: the bundle's kernel build ID; else ""
  std::int64_t sequence = 0;  // built: the bundle's sequence
  std::string reason;
  std::string record_sha256;  // the record that said so

  // Two records agree on a kernel when they say the same about it.
  bool agrees(const FixKernelRow& o) const {
    return release == o.release && version == o.version && outcome == o.outcome && bundle_sha256 == o.bundle_sha256;
  }
  // A later record may turn "could not be built" into "built" for the same kernel (a backport
  // of a fix that did not apply, or a builder that no longer refuses it); never the reverse,
  // and never one bundle into another.
  bool upgraded_by(const FixKernelRow& o) const {
    return release == o.release && version == o.version && o.outcome == "built" &&
           (outcome == "does_not_apply" || outcome == "refused" || outcome == "unavailable");
  }
};
struct FixRow {
  std::string id;
  std::string description;
  std::int64_t created_at = 0;  // when the first record naming it was stored
};
struct StoredFixRecord {
  std::string sha256;     // of the record bytes
  std::string record;     // fix.json, exactly as signed
  std::string signature;  // fix.sig
  std::string signer_key_id;
  std::int64_t created_at = 0;
  std::vector<FixRow> fixes;
  std::vector<FixKernelRow> kernels;  // every (fix id, kernel)
};

// Hosts grouped by kernel and applied bundle (the exposure of every fix is computed from it).
struct HostKernelCount {
  std::string release;
  std::string version;  // the kernel's /proc/version text
  std::string build_id;
  std::string applied_sha256;  // "" when nothing is applied
  std::int64_t n = 0;
};

struct HostRecord {
  std::string id;
  std::string hostname;
  std::string group;
  std::vector<std::string> tags;
  api::KernelId kernel;
  std::string state = "idle";
  std::optional<api::AppliedPatch> applied;
  std::int64_t last_seen = 0;
  std::int64_t enrolled_at = 0;
  std::string last_error;
};

struct HostEvent {
  std::int64_t time = 0;
  std::string kind;    // "enrolled", "offered", "report", "kernel_changed", ...
  std::string detail;  // JSON text
};

struct TokenRecord {
  std::string id;
  std::string kind;     // "enrollment" or "admin"
  std::string role;     // admin tokens: "admin" or "read"
  std::string name;
  std::string group;    // enrollment tokens: the group hosts join
  std::vector<std::string> tags;
  std::int64_t expires_at = 0;  // 0: never
  std::int64_t max_uses = 0;    // 0: unlimited
  std::int64_t uses = 0;
  bool revoked = false;
  std::int64_t created_at = 0;
};

// awaiting_approval: created (for example by noreboot-feed with approve = "manual") and
// offering nothing until an operator approves it (POST /v1/fixes/{id}/approve); then running.
enum class RolloutState { running, halted, completed, awaiting_approval };
std::string_view rollout_state_name(RolloutState s);

struct RolloutRecord {
  std::string id;
  std::string bundle_sha256;  // a bundle rollout: its one bundle; "" for a fix rollout
  // A fix rollout: the fix id and its bundles, one per kernel (from its fix records). Stages,
  // the failure budget, halt and resume apply to all of them together.
  std::string fix_id;
  std::vector<std::string> bundles;
  std::vector<std::string> groups;
  std::vector<std::string> tags;
  std::vector<api::Stage> stages;
  std::optional<api::MaintenanceWindow> window;
  RolloutState state = RolloutState::running;
  int current_stage = 0;
  std::int64_t stage_started_at = 0;
  std::int64_t created_at = 0;
  std::string halt_reason;
  // Failures counted when the rollout was last resumed: the budget applies to the failures
  // after that (those hosts are never offered the bundle again anyway).
  std::int64_t failure_baseline = 0;

  // The bundles this rollout offers: its one bundle, or the fix's bundles.
  std::vector<std::string> all_bundles() const {
    return fix_id.empty() ? std::vector<std::string>{bundle_sha256} : bundles;
  }
};

struct RolloutCounts {
  std::int64_t offered = 0;  // offered and not (yet) reported either way
  std::int64_t applied = 0;
  std::int64_t failed = 0;
};

struct PinRecord {
  std::string group;
  std::string bundle_sha256;  // "" when pinned by date only
  std::int64_t until = 0;     // 0 when pinned to a bundle only
};

struct AuditEntry {
  std::int64_t time = 0;
  std::string actor;
  std::string action;
  std::string detail;  // JSON text
};

// Writes gathered from many requests and applied in one transaction (group commit, see
// group_commit.h). Applying a batch gives the same rows as applying its parts one by one in
// order: host statuses and outcomes of one key keep the last write, an "offered" outcome never
// overwrites another (it is insert-if-absent, so it commutes with the others), events keep
// their order.
struct OutcomeWrite {
  std::string host_id;
  std::string sha256;
  std::string outcome;  // "offered" (only if none yet), "applied", "failed"
  std::int64_t time = 0;
};
struct EventWrite {
  std::string host_id;
  HostEvent event;
};
struct WriteBatch {
  std::vector<HostRecord> statuses;  // kernel, state, applied, last_seen, last_error
  std::vector<OutcomeWrite> outcomes;
  std::vector<EventWrite> events;
  bool empty() const { return statuses.empty() && outcomes.empty() && events.empty(); }
  std::size_t rows() const { return statuses.size() + outcomes.size() + events.size(); }
  void append(WriteBatch&& other);
};

struct HostFilter {
  std::string group;
  std::string state;
  std::string build_id;
  std::int64_t limit = 1000;
  std::int64_t offset = 0;
};

class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Changes between servers sharing one database: on PostgreSQL a NOTIFY on channel
  // "noreboot_changes" with `origin` (the sending server) as payload, received by every
  // server's listener (LISTEN on its own connection), so a publish, a halt or a stage change
  // made through one server reaches the long polls of the others in milliseconds instead of
  // at their next snapshot reload. SQLite (one server per file): no-ops.
  virtual Status notify_change(const std::string& origin) {
    (void)origin;
    return ok_status();
  }
  // on_change(origin) runs on the listener's thread; "" when the origin is unknown (after a
  // reconnect). Destroying the returned listener stops it. nullptr: nothing to listen to.
  virtual std::unique_ptr<ChangeListener> listen_changes(std::function<void(const std::string&)> on_change) {
    (void)on_change;
    return nullptr;
  }

  virtual Status ping() = 0;
  virtual Result<int> schema_version() = 0;

  // Bundles (content-addressed). put_bundle returns false when it already existed.
  virtual Result<bool> put_bundle(const BundleRecord& rec, const std::string& content) = 0;
  virtual Result<std::optional<BundleRecord>> get_bundle(const std::string& sha256) = 0;
  virtual Result<std::optional<std::string>> get_bundle_content(const std::string& sha256) = 0;
  virtual Result<std::vector<BundleRecord>> list_bundles() = 0;
  virtual Status set_bundle_blocked(const std::string& sha256, bool blocked, const std::string& reason) = 0;
  virtual Status set_bundle_fix_ids(const std::string& sha256, const std::vector<std::string>& fix_ids) = 0;

  // Fix records. put_fix_record stores a record and its rows in one transaction, after checking
  // that it agrees with every stored record on the fixes they share: the same description, and
  // for every kernel both name the same outcome and bundle (Errc::conflict naming the first
  // disagreement; nothing is stored). A record may add kernels the stored ones do not name, and
  // may give a bundle to a kernel a stored record could not build for (FixKernelRow::upgraded_by:
  // a backport); that kernel's row then names the new record.
  // Returns false when this exact record was stored already.
  virtual Result<bool> put_fix_record(const StoredFixRecord& rec) = 0;
  virtual Result<std::vector<FixRow>> list_fixes() = 0;
  // Every (fix id, kernel) row; fix_id "" for all fixes.
  virtual Result<std::vector<FixKernelRow>> fix_kernels(const std::string& fix_id) = 0;
  virtual Result<std::optional<StoredFixRecord>> get_fix_record(const std::string& sha256) = 0;

  // Tokens. consume_enrollment atomically checks (not revoked, not expired, uses left) and
  // counts a use; enroll_host does that and creates the host in one transaction.
  virtual Status create_token(const TokenRecord& rec, const std::string& secret_hash) = 0;
  virtual Result<std::optional<TokenRecord>> find_token(const std::string& secret_hash) = 0;
  virtual Result<std::vector<TokenRecord>> list_tokens(const std::string& kind) = 0;
  virtual Result<bool> revoke_token(const std::string& id, const std::string& kind) = 0;
  virtual Result<std::int64_t> count_tokens(const std::string& kind) = 0;
  // Admin tokens of role "admin" that still work at `now` (not revoked, not expired).
  virtual Result<std::int64_t> count_usable_admins(std::int64_t now) = 0;
  // Revokes an admin token unless it is the last usable admin-role token (one statement, so
  // two administrators revoking each other's tokens at once cannot both succeed on SQLite;
  // on PostgreSQL the window is a single statement's).
  enum class AdminRevoke { revoked, not_found, last_admin };
  virtual Result<AdminRevoke> revoke_admin_token(const std::string& id, std::int64_t now) = 0;
  // Returns the token used (for its group and tags), or nullopt when it may not be used.
  virtual Result<std::optional<TokenRecord>> enroll_host(const std::string& token_hash,
                                                         HostRecord host,
                                                         const std::string& credential_hash,
                                                         std::int64_t now) = 0;

  // Hosts.
  virtual Result<std::optional<HostRecord>> find_host_by_credential(const std::string& hash) = 0;
  virtual Result<std::optional<HostRecord>> get_host(const std::string& id) = 0;
  // Revokes the host's credential for good (its check-ins, reports and downloads get 401; it
  // may enroll again with a new token, as a new host). The host's row, history and outcomes
  // stay, its state becomes "revoked". Returns false when there is no such host.
  virtual Result<bool> revoke_host(const std::string& id, std::int64_t now) = 0;
  virtual Result<std::vector<HostRecord>> list_hosts(const HostFilter& filter) = 0;
  virtual Result<std::int64_t> count_hosts(const HostFilter& filter) = 0;
  virtual Status add_host_event(const std::string& host_id, const HostEvent& ev) = 0;
  virtual Result<std::vector<HostEvent>> host_history(const std::string& host_id, int limit) = 0;
  // Applies a whole batch in one transaction with multi-row statements (a few round trips
  // for thousands of rows). All or nothing.
  virtual Status apply_writes(const WriteBatch& batch) = 0;

  // Per host and bundle outcome: "offered", "applied", "failed" (written by apply_writes;
  // store_oracle.h gives tests one-row writes).
  virtual Result<std::string> host_outcome(const std::string& host_id, const std::string& sha256) = 0;  // "" if none
  virtual Result<RolloutCounts> bundle_counts(const std::string& sha256) = 0;
  // Every (host id, bundle sha256) that reported a failure: few, read whole into the snapshot.
  virtual Result<std::vector<std::pair<std::string, std::string>>> failed_outcomes() = 0;
  // When each host's current outcome for these bundles was reported, oldest first: the
  // "applied" and "failed" rows only (the fix page's timeline).
  struct OutcomeTime {
    std::int64_t time = 0;
    std::string outcome;
  };
  virtual Result<std::vector<OutcomeTime>> outcome_times(const std::vector<std::string>& sha256s) = 0;

  // Rollouts.
  virtual Status create_rollout(const RolloutRecord& rec) = 0;
  virtual Result<std::optional<RolloutRecord>> get_rollout(const std::string& id) = 0;
  virtual Result<std::vector<RolloutRecord>> list_rollouts() = 0;
  // Compare-and-set: writes `next` only if the stored state and stage are still those of
  // `expected`. Returns whether it wrote.
  virtual Result<bool> update_rollout(const RolloutRecord& expected, const RolloutRecord& next) = 0;
  // The same compare-and-set and, in the same transaction when it wrote, `bundles` blocked
  // (with next.halt_reason) or unblocked: a halt and its block commit together or not at all,
  // so a crash or a lost database between them cannot leave a halted rollout whose bundle is
  // still offered (to a pinned group, say). Failpoint "store.halt.between_writes" sits
  // between the two statements.
  virtual Result<bool> update_rollout_and_block(const RolloutRecord& expected, const RolloutRecord& next,
                                                const std::vector<std::string>& bundles, bool blocked) = 0;

  // Pins.
  virtual Status put_pin(const PinRecord& pin) = 0;
  virtual Result<bool> delete_pin(const std::string& group) = 0;
  virtual Result<std::vector<PinRecord>> list_pins() = 0;

  // Audit log.
  virtual Status add_audit(const AuditEntry& e) = 0;
  virtual Result<std::vector<AuditEntry>> list_audit(int limit) = 0;
  // The newest `limit` entries whose action starts with `action_prefix` and whose detail
  // contains `text` (both literally), oldest first (a rollout's events for the fix page).
  virtual Result<std::vector<AuditEntry>> audit_mentioning(const std::string& action_prefix, const std::string& text,
                                                           int limit) = 0;

  // Fleet aggregates.
  struct Count { std::string key; std::string key2; std::int64_t n = 0; };
  virtual Result<std::vector<Count>> hosts_by_state() = 0;
  virtual Result<std::vector<Count>> hosts_by_kernel() = 0;         // key release, key2 build_id
  virtual Result<std::vector<Count>> hosts_by_applied_bundle() = 0; // key sha256
  virtual Result<std::vector<HostKernelCount>> hosts_by_kernel_and_applied() = 0;
  // Per kernel build: hosts whose applied sequence is below `sequence`.
  virtual Result<std::int64_t> hosts_behind(const std::string& build_id, std::int64_t sequence) = 0;
};

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir);
Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo, int connections = 4);

}  // namespace noreboot::server
