// The wire types of noreboot's HTTP API v1, shared by the server, the agent and the admin tool.
//
// Problem: three programs, written in parallel, must agree byte for byte on what a check-in,
// an offer or a report looks like, and the server must refuse anything malformed with a
// message that says which field was wrong. Approach: plain structs, one `to_json` and one
// `parse_*` per message. Parsing is strict: unknown fields are ignored (so a newer agent can
// add fields), but every known field is type-checked and bounded (lengths, counts, the
// character set of ids and hashes), and the first problem is returned as an
// Errc::invalid_input error naming the field ("kernel.build_id: must be 40 hex characters").
// Trade-off: the bounds are fixed here rather than configured; they are generous for real
// agents and small enough that a hostile body cannot make the server store megabytes.
//
// The authoritative description, with examples, is docs/api.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::api {

// ---- shared pieces -------------------------------------------------------------------------

// The exact identity of a running kernel (what kernel_identity.h reads on a host).
struct KernelId {
  std::string release;   // uname -r, e.g. "6.1.0-56-amd64"
  std::string version;   // /proc/version (uname -v part is enough), e.g. "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (...)"
  std::string build_id;  // GNU build ID of vmlinux, lowercase hex (from /sys/kernel/notes)
  std::string arch;      // "x86_64"
};

// The livepatch a host runs (cumulative: at most one).
struct AppliedPatch {
  std::string name;           // livepatch module name, e.g. "nr_fix_tcp"
  std::uint64_t sequence = 0; // the bundle's monotonically increasing sequence
  std::string bundle_sha256;  // sha256 of the .nrp file, lowercase hex
};

// What the agent is doing / has done. The string forms are the wire values.
enum class AgentState {
  idle,         // nothing applied, nothing in progress
  downloading,  // fetching an offered bundle
  applying,     // module loaded, transition in progress
  applied,      // a patch is applied and its transition finished
  failed,       // the last attempt failed (see errors); the previous state was restored
  reverted,     // the patch was disabled (by a person or after trouble)
};
std::string_view agent_state_name(AgentState s);
Result<AgentState> parse_agent_state(std::string_view s);

// A task that blocked a livepatch transition (from /proc/<pid>/stack while transition == 1).
struct BlockedTask {
  std::int64_t pid = 0;
  std::string comm;
  std::string stack;  // a few frames, newline separated
};

// ---- enroll: POST /v1/enroll (no Authorization; the token is in the body) --------------------

struct EnrollRequest {
  std::string token;                 // enrollment token "nre_..."
  std::string hostname;
  KernelId kernel;
  std::vector<std::string> tags;     // added to the tags the token grants
};

struct EnrollResponse {
  std::string host_id;               // "h_" + 24 hex
  std::string credential;            // "nrh_..." secret; send as "Authorization: Bearer <it>"
  std::string group;                 // the group the token placed the host in ("" for none)
  std::vector<std::string> tags;
};

// ---- check-in: POST /v1/checkin[?wait=S] (host credential) -----------------------------------

struct CheckinRequest {
  KernelId kernel;
  std::optional<AppliedPatch> applied;  // absent or null: nothing applied
  AgentState state = AgentState::idle;
  std::string agent_version;
};

// A bundle the server wants this host to apply.
struct Offer {
  std::string bundle_id;       // == sha256; bundles are content-addressed
  std::string url;             // "/v1/bundles/<sha256>", relative to the server's base URL
  std::string sha256;
  std::uint64_t size = 0;
  std::uint64_t sequence = 0;
  std::string patch_name;
  std::string rollout_id;      // "" when offered through a pin
};

struct CheckinResponse {
  std::optional<Offer> offer;         // absent: "nothing" for now
  std::uint32_t next_checkin_seconds = 60;  // when to come back (agents add jitter)
  std::string host_id;
};

// ---- report: POST /v1/report (host credential; a host reports only for itself) ---------------

struct ReportRequest {
  std::string host_id;                // must be the credential's host, or the request is refused
  AgentState state = AgentState::idle;
  KernelId kernel;
  std::optional<AppliedPatch> applied;
  std::string bundle_sha256;          // the bundle this report is about ("" for a plain status)
  std::vector<std::string> errors;
  std::vector<BlockedTask> blocked_tasks;
  std::vector<std::string> kernel_warnings;  // new WARN/oops lines since the load
};

struct ReportResponse {
  bool accepted = true;
};

// ---- errors: every 4xx/5xx body ---------------------------------------------------------------

struct ApiError {
  std::string code;     // machine-readable, e.g. "invalid_input", "unauthorized", "not_found"
  std::string message;  // for a person: what was wrong and what to do
};

// ---- admin: rollouts ---------------------------------------------------------------------------

struct Stage {
  double percent = 0;                // share of the targeted hosts, (0, 100]
  std::int64_t soak_seconds = 0;     // time in this stage before advancing
  std::int64_t failure_budget = 0;   // failed hosts tolerated (whole rollout) while in this stage
};

// A daily UTC window in which offers are made: [start_minute, end_minute) of the day, wrapping
// past midnight when end < start. Absent: always open.
struct MaintenanceWindow {
  int start_minute = 0;  // "HH:MM" on the wire
  int end_minute = 0;
};

struct RolloutCreate {
  std::string bundle_sha256;         // one bundle (one kernel), or
  std::string fix;                   // a fix id: its bundles for every kernel its records built
  std::vector<std::string> groups;   // empty: any group
  std::vector<std::string> tags;     // empty: any tags; otherwise a host needs all of them
  std::vector<Stage> stages;         // at least one; percents non-decreasing; last usually 100
  std::optional<MaintenanceWindow> window;
  // Created in state awaiting_approval: offers nothing until POST /v1/fixes/{id}/approve
  // (or /v1/rollouts/{id}/approve).
  bool await_approval = false;
};

// ---- parse / serialise ------------------------------------------------------------------------
// to_json returns compact JSON text; parse_* take a body and validate it fully.

std::string to_json(const EnrollRequest& v);
std::string to_json(const EnrollResponse& v);
std::string to_json(const CheckinRequest& v);
std::string to_json(const CheckinResponse& v);
std::string to_json(const ReportRequest& v);
std::string to_json(const ReportResponse& v);
std::string to_json(const ApiError& v);  // {"error": {"code": ..., "message": ...}}
std::string to_json(const RolloutCreate& v);

Result<EnrollRequest> parse_enroll_request(std::string_view body);
Result<EnrollResponse> parse_enroll_response(std::string_view body);
Result<CheckinRequest> parse_checkin_request(std::string_view body);
Result<CheckinResponse> parse_checkin_response(std::string_view body);
Result<ReportRequest> parse_report_request(std::string_view body);
Result<ReportResponse> parse_report_response(std::string_view body);
Result<ApiError> parse_api_error(std::string_view body);
Result<RolloutCreate> parse_rollout_create(std::string_view body);

// Validators shared with the server's routing.
bool is_sha256_hex(std::string_view s);   // exactly 64 lowercase hex characters
bool is_build_id_hex(std::string_view s); // 2..128 lowercase hex characters, even length
bool is_name(std::string_view s);         // 1..64 of [A-Za-z0-9._-], for groups, tags, patch names
Result<MaintenanceWindow> parse_window(std::string_view hhmm_range);  // "22:00-04:00"
std::string format_window(const MaintenanceWindow& w);

}  // namespace noreboot::api
