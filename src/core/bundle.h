// The signed patch bundle (*.nrp): reading, verifying, writing and extracting.
//
// A bundle is a plain POSIX ustar archive with exactly three regular files, in this order:
//   manifest.json   the Manifest (core/manifest.h), the bytes the publisher signed
//   manifest.sig    one line: noreboot-ed25519-signature-v1 <key id> <base64 signature>
//   <name>.ko       the livepatch module; its SHA-256 and size are in the manifest
// docs/bundle-format.md is the reference.
//
// Reading (read_bundle*) checks structure only: the tar is well formed, the members are the
// three expected ones, each within its size limit, the signature line and the manifest parse,
// and the module member is the one the manifest names. Nothing is trusted yet.
// verify_bundle then decides trust, in this order: the signing key id is in the TrustStore; the
// ed25519 signature is valid over the exact manifest bytes; the module size and SHA-256 equal
// the signed manifest's. Only a verified bundle's module may be extracted or loaded.
// write_bundle fills in the module's file name, size, SHA-256 (and vermagic from the module's
// .modinfo when the manifest leaves it empty), signs, and writes the archive atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/bytes.h"
#include "core/keys.h"
#include "core/manifest.h"
#include "core/result.h"

namespace noreboot {

inline constexpr std::string_view kManifestMember = "manifest.json";
inline constexpr std::string_view kSignatureMember = "manifest.sig";

struct BundleLimits {
  std::uint64_t manifest_max = 1 << 20;   // 1 MiB
  std::uint64_t module_max = 64 << 20;    // 64 MiB
  std::uint64_t signature_max = 4 << 10;  // 4 KiB
  // Largest archive file read_bundle accepts: members + headers + padding.
  std::uint64_t archive_max() const { return manifest_max + module_max + signature_max + 64 * 1024; }
};

struct BundleContents {
  std::string manifest_bytes;  // exactly as in the archive: the signed bytes
  Manifest manifest;
  Bytes module;
  Signature signature;
};

Result<BundleContents> read_bundle_bytes(ByteView archive, const BundleLimits& limits = {});
Result<BundleContents> read_bundle(const std::filesystem::path& path, const BundleLimits& limits = {});

// Returns the key that signed the bundle. Errc::signature for an untrusted key or a bad
// signature, Errc::integrity for a module that does not match the manifest.
Result<PublicKey> verify_bundle(const BundleContents& contents, const TrustStore& trust);

// Errc::refused with one line per difference when the bundle is for another kernel.
// `actual_label` names the other side in the message ("running", "given kernel").
Status check_target_kernel(const Manifest& manifest, const KernelIdentity& actual,
                           std::string_view actual_label = "running");

// Completes the manifest (module file/size/sha256, vermagic if empty), validates, signs.
// Returns the archive bytes; `manifest` holds the final manifest afterwards.
Result<Bytes> build_bundle(Manifest& manifest, ByteView module, const SecretKey& key);
// build_bundle + atomic write (temp file, fsync, rename). Returns the final manifest.
Result<Manifest> write_bundle(const std::filesystem::path& path, Manifest manifest, ByteView module,
                              const SecretKey& key);
// Re-signs a bundle's exact manifest bytes with another key and returns the new archive.
Result<Bytes> resign_bundle(const BundleContents& contents, const SecretKey& key);

// Writes the module to <dir>/<manifest.module.file> atomically and returns that path. The file
// name was validated as a module name + ".ko", so it cannot leave `dir`.
Result<std::filesystem::path> extract_module(const BundleContents& contents,
                                             const std::filesystem::path& dir);

// The value of a .modinfo key (e.g. "vermagic", "name") from an ELF64 little-endian module.
Result<std::string> module_info_value(ByteView module, std::string_view key);

}  // namespace noreboot
