// verify_for_host: the six checks of verify.h, in order, with no I/O.
#include "agent/verify.h"

#include "agent/modinfo.h"

namespace noreboot::agent {

namespace {

bool enabled_in_kernel(const std::vector<LivepatchInfo>& live_patches, const std::string& name) {
  for (const auto& p : live_patches)
    if (p.name == name && p.enabled) return true;
  return false;
}

// 5. The rollback rule: refuses a lower sequence, and other content under the highest one.
Status check_sequence(const Manifest& m, const std::string& sha, const std::string& build_id,
                      const AgentState& state) {
  uint64_t highest = 0;
  if (auto it = state.highest_sequence.find(build_id); it != state.highest_sequence.end()) highest = it->second;
  if (m.sequence < highest)
    return Error(Errc::refused, "sequence " + std::to_string(m.sequence) +
                                    " is lower than the highest applied on this kernel (" + std::to_string(highest) +
                                    "): refusing a rollback; publish a new bundle with a higher sequence");
  // The same sequence again is fine for the very bundle that reached it (live now, or
  // reverted since); other content under that sequence is refused.
  bool is_applied = state.applied && state.applied->bundle_sha256 == sha;
  auto it = state.highest_sha256.find(build_id);
  bool reached_highest = it != state.highest_sha256.end() && it->second == sha;
  if (m.sequence == highest && highest != 0 && !is_applied && !reached_highest)
    return Error(Errc::refused, "sequence " + std::to_string(m.sequence) +
                                    " was already applied on this kernel with different content: "
                                    "refusing; publish it with a higher sequence");
  return ok_status();
}

Status check_all(ByteView bundle, const std::string& sha, const HostFacts& host, bool automatic,
                 HostVerdict& v) {
  // 1. archive sane.
  NR_TRY(v.contents, read_bundle_bytes(bundle));
  const Manifest& m = v.contents->manifest;

  // 2. signature by a trusted key, module hash and size.
  if (host.trust == nullptr || host.trust->empty())
    return Error(Errc::signature, "no trusted publisher keys: list them in trusted_keys of "
                                  "agent.toml, or pass --trust KEY.pub");
  NR_TRY_STATUS(verify_bundle(*v.contents, *host.trust));

  // 3. the module is the livepatch the manifest names.
  NR_TRY(auto info, read_modinfo(as_chars(v.contents->module)));
  if (info.name() != m.name)
    return Error(Errc::invalid_input,
                 "the module's .modinfo name is '" + info.name() + "' but the manifest says '" + m.name + "'");
  if (!info.is_livepatch())
    return Error(Errc::invalid_input, "module " + m.name + " is not a livepatch (no livepatch=Y in .modinfo)");

  // 4. built for exactly this kernel.
  if (!host.running.ok()) return host.running.error().context("reading the running kernel's identity");
  v.running = *host.running;
  NR_TRY_STATUS(check_target_kernel(m, v.running));

  // 5. no rollback; the live bundle itself is no rollback but nothing to do.
  static const AgentState no_state;
  const AgentState& state = host.state ? *host.state : no_state;
  if (state.applied && state.applied->bundle_sha256 == sha && enabled_in_kernel(host.live_patches, m.name)) {
    v.already_live = true;
    return ok_status();
  }
  NR_TRY_STATUS(check_sequence(m, sha, v.running.build_id, state));

  // 6. the crash-loop guard's verdict holds for automatic loads.
  if (const Quarantine* q = state.quarantine_for(sha); q && automatic)
    return Error(Errc::refused, "bundle is quarantined: " + q->reason);
  return ok_status();
}

}  // namespace

HostVerdict verify_for_host(ByteView bundle, const std::string& bundle_sha256, const HostFacts& host,
                            bool automatic) {
  HostVerdict v;
  v.refusal = check_all(bundle, bundle_sha256, host, automatic, v);
  return v;
}

}  // namespace noreboot::agent
