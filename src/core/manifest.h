// The bundle manifest: what a patch is, which kernel it is for and which module it carries.
//
// The manifest is the signed statement of the publisher. Its exact bytes are signed, so the
// verifier checks the signature over the bytes it received and only then trusts the parsed
// fields; serialization is deterministic (fixed field order, two-space indent, trailing newline)
// so that writing the same Manifest twice gives the same bytes. docs/bundle-format.md shows an
// example and describes each field.
//
// Parsing is strict about types and values (every error names the field, e.g.
// "manifest.json: field 'kernel.build_id' must be lowercase hex"), refuses a newer
// format_version, and ignores fields it does not know so that a later version can add optional
// fields that older agents safely skip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/kernel_identity.h"
#include "core/result.h"

namespace noreboot {

inline constexpr int kManifestFormatVersion = 1;

struct ModuleInfo {
  std::string file;      // member name in the bundle: "<name>.ko"
  std::string sha256;    // lowercase hex of the module bytes
  std::uint64_t size = 0;
  std::string vermagic;  // the module's vermagic modinfo string

  bool operator==(const ModuleInfo&) const = default;
};

struct Fix {
  std::string id;           // e.g. CVE-2024-1234 or an internal ticket id
  std::string description;

  bool operator==(const Fix&) const = default;
};

// One source fix the module was built from: the unified diff as given to noreboot-build. A
// cumulative patch carries every earlier fix's diff and then the new one, in the order they
// were applied, so the next cumulative patch can be built from the bundle alone (and anyone
// can read what a bundle changes). Covered by the manifest's signature.
struct SourcePatch {
  std::string name;         // the fix file's base name, e.g. ext4-mballoc.patch
  std::string text;         // the unified diff (UTF-8)

  bool operator==(const SourcePatch&) const = default;
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string name;            // the livepatch module name, e.g. nr_cmdline (kernel module name rules)
  std::uint64_t sequence = 0;  // cumulative: a higher sequence replaces every lower one
  KernelIdentity kernel;       // the exact target kernel
  ModuleInfo module;
  std::vector<Fix> fixes;
  std::vector<SourcePatch> sources;  // optional ("sources"; absent in bundles of older builders)
  std::string builder_version;
  std::string created;         // RFC 3339 UTC, "2026-11-23T00:15:00Z"

  bool operator==(const Manifest&) const = default;
};

// Parses and validates. `source` names the text in error messages (e.g. "manifest.json").
Result<Manifest> parse_manifest(std::string_view text, std::string_view source = "manifest.json");
// Validates the fields of a Manifest built in code (the same rules parse_manifest applies).
Status validate_manifest(const Manifest& manifest);
// Deterministic JSON text with a trailing newline.
std::string serialize_manifest(const Manifest& manifest);

// True for a valid kernel module name: 1-55 characters of [A-Za-z0-9_].
bool valid_module_name(std::string_view name);
// "YYYY-MM-DDTHH:MM:SSZ" for the given time (UTC).
std::string rfc3339_utc(std::int64_t unix_seconds);
std::string rfc3339_utc_now();
// For people (tables, the dashboard): "2026-11-23 02:09:01Z", or "-" for 0 (never).
std::string readable_utc(std::int64_t unix_seconds);

}  // namespace noreboot
