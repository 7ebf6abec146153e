// The fix record: what one multi-kernel build of a fix produced, signed by the publisher.
//
// Problem: a security team asks "which hosts are still exposed to CVE X?". The answer needs,
// per kernel the fleet runs, what the build of that fix found: a bundle (which one), the kernel
// already contains the fix, the fix does not apply, the differ refused it, the archive cannot
// build it. The server must not take those claims from whoever holds an admin token: a forged
// "already fixed" would hide exposed hosts. So the builder writes them down and signs them with
// the publisher key that signs the bundles, and the server checks the signature the way it
// checks bundles.
// Approach: DIR/fix.json (the record, deterministic JSON like the manifest) and DIR/fix.sig
// (the same one-line signature format as manifest.sig: ed25519 over the exact bytes of
// fix.json). A built kernel names its bundle by the SHA-256 of the .nrp file, the id the server
// stores it under and the one hosts report as applied, so the server can check that the
// record's bundles are the ones uploaded. The parse is strict like the manifest's (every
// error names the field; a key twice in one object, a kernel twice, a fix id twice are
// refused); unknown fields are ignored so a later format can add optional ones.
// Trade-off: a bundle re-signed after the build (noreboot-admin sign --bundle) has another
// file hash and no longer matches its record; re-signing a release means signing its record
// again, which is what a publisher wants anyway. docs/bundle-format.md is the reference.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/keys.h"
#include "core/manifest.h"
#include "core/result.h"

namespace noreboot {

inline constexpr int kFixRecordFormatVersion = 1;
inline constexpr std::string_view kFixRecordFile = "fix.json";
inline constexpr std::string_view kFixSignatureFile = "fix.sig";
inline constexpr std::size_t kFixRecordMaxBytes = 1 << 20;

// What the build found for one kernel (the outcomes of noreboot-build's summary.json).
enum class KernelOutcome { built, already_fixed, does_not_apply, refused, no_change, unavailable, failed };
std::string_view kernel_outcome_name(KernelOutcome o);
std::optional<KernelOutcome> parse_kernel_outcome(std::string_view s);

// A fix id as the server's URLs and metric labels carry it: 1-128 of A-Z a-z 0-9 . _ + -
// (e.g. CVE-2026-99362, NR-17).
bool valid_fix_id(std::string_view id);

struct FixRecordBundle {
  std::string file;      // the bundle's file name in the build's folder, e.g. 6.1.0-56-amd64.nrp
  std::string sha256;    // SHA-256 of the .nrp file: the bundle's id on the server
  std::string build_id;  // the bundle manifest's kernel.build_id
  std::string module;    // the livepatch module name
  std::uint64_t sequence = 0;

  bool operator==(const FixRecordBundle&) const = default;
};

struct FixRecordKernel {
  std::string release;   // uname -r, the Debian ABI: 6.1.0-56-amd64
  std::string version;   // the Debian package version: 6.1.192-2
  KernelOutcome outcome = KernelOutcome::built;
  std::optional<FixRecordBundle> bundle;  // exactly when outcome is built
  std::string reason;    // the others: why (may be empty for already_fixed)

  bool operator==(const FixRecordKernel&) const = default;
};

struct FixRecord {
  int format_version = kFixRecordFormatVersion;
  std::vector<Fix> fixes;              // at least one; ids unique
  std::string patch_name;              // the fix file's base name
  std::string patch_sha256;            // SHA-256 of the fix file's bytes
  std::vector<FixRecordKernel> kernels;  // releases unique
  std::string builder_version;
  std::string created;                 // RFC 3339 UTC

  bool operator==(const FixRecord&) const = default;
};

Result<FixRecord> parse_fix_record(std::string_view text, std::string_view source = kFixRecordFile);
Status validate_fix_record(const FixRecord& record);
// Deterministic JSON text (fixed field order, two-space indent, trailing newline).
std::string serialize_fix_record(const FixRecord& record);

struct SignedFixRecord {
  std::string record;     // the exact bytes of fix.json
  std::string signature;  // the fix.sig line
};
// Validates, serializes and signs.
Result<SignedFixRecord> sign_fix_record(const FixRecord& record, const SecretKey& key);

struct VerifiedFixRecord {
  FixRecord record;
  PublicKey signer;
};
// Parses the signature line, checks the signing key is trusted and the
// signature is valid over the exact bytes, then parses the record. Errc::signature for an untrusted key or a bad
// signature, Errc::invalid_input for a malformed record or signature line.
Result<VerifiedFixRecord> verify_fix_record(std::string_view record_bytes, std::string_view signature_text,
                                            const TrustStore& trust);

// DIR/fix.json and DIR/fix.sig, each written atomically (the signature last).
Status write_fix_record(const std::filesystem::path& dir, const SignedFixRecord& signed_record);

}  // namespace noreboot
