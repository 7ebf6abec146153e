// verify_for_host: every check a bundle passes before the kernel sees it, as one pure function.
//
// Problem: the apply path mixes two jobs, deciding whether a bundle may be loaded on this host
// and loading it. The first is policy (signatures, kernel identity, rollback, quarantine) and
// must be tested case by case, quickly and without any kernel; the second needs a kernel (the
// fake one in unit tests, QEMU's in the vm tier).
// Approach: the caller gathers what the checks need about the host (HostFacts: trusted keys,
// the running kernel's identity, the live patches, the agent's state) and verify_for_host
// decides with no I/O, in a fixed order, stopping at the first refusal:
//   1. the archive is sane (read_bundle_bytes: well-formed tar, the three members, limits);
//   2. it is signed by a trusted key and the module's size and SHA-256 match the signed
//      manifest (verify_bundle);
//   3. the module is a livepatch whose .modinfo name is the manifest's name (the sysfs folder
//      the transition is followed through);
//   4. the target kernel is the running one: release, /proc/version and build ID;
//   5. no rollback: the sequence is not lower than the highest ever applied on this kernel
//      build, and the same sequence is accepted only for the very bundle that reached it
//      (after a reboot or a revert); the bundle that is live already is reported as such;
//   6. automatic applies (daemon, reapply at boot) refuse a quarantined bundle.
// Trade-off: the facts are read before the checks, so a host whose livepatch folder cannot be
// listed fails before a bad archive is named; both are errors that load nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/kernel_interface.h"
#include "agent/state.h"
#include "core/bundle.h"
#include "core/kernel_identity.h"
#include "core/keys.h"

namespace noreboot::agent {

// What the checks know about the host; the caller reads it, verify_for_host only looks.
struct HostFacts {
  const TrustStore* trust = nullptr;
  Result<KernelIdentity> running = Error(Errc::not_found, "the running kernel was not read");
  std::vector<LivepatchInfo> live_patches;
  const AgentState* state = nullptr;
};

// The decision. `contents` is set as soon as the archive reads, also when a later check
// refuses (the journal names the patch it refused).
struct HostVerdict {
  Status refusal;                          // ok: every check passed
  std::optional<BundleContents> contents;
  KernelIdentity running;                  // valid when refusal is ok
  bool already_live = false;               // this exact bundle is live: nothing to load

  bool accepted() const { return refusal.ok(); }
};

// `bundle_sha256` is the archive's hash (the caller has it already); `automatic` is set for
// the daemon and reapply-at-boot. The refusal's message names the check that failed and what
// to do, without the bundle's origin (the caller adds it).
HostVerdict verify_for_host(ByteView bundle, const std::string& bundle_sha256, const HostFacts& host,
                            bool automatic);

}  // namespace noreboot::agent
