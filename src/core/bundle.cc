#include "core/bundle.h"

#include <map>

#include "core/elf_lite.h"
#include "core/file_io.h"
#include "core/tar.h"

namespace noreboot {
namespace {

constexpr std::string_view kExpectedMembers =
    "a bundle holds exactly manifest.json, manifest.sig and the module <name>.ko";

Status check_size(std::string_view member, std::uint64_t size, std::uint64_t limit) {
  if (size > limit)
    return Error(Errc::invalid_input, "member '" + std::string(member) + "' is " + std::to_string(size) +
                                          " bytes, more than the limit of " + std::to_string(limit) +
                                          " bytes");
  return ok_status();
}

}  // namespace

Result<BundleContents> read_bundle_bytes(ByteView archive, const BundleLimits& limits) {
  if (archive.size() > limits.archive_max())
    return Error(Errc::invalid_input, "bundle is " + std::to_string(archive.size()) +
                                          " bytes, more than the limit of " +
                                          std::to_string(limits.archive_max()));
  NR_TRY(auto members, read_tar(archive, {.max_members = 8}));

  std::map<std::string, ByteView, std::less<>> found;
  std::string module_member;
  for (const auto& m : members) {
    if (found.count(m.name))
      return Error(Errc::invalid_input, "member '" + m.name + "' appears twice; " + std::string(kExpectedMembers));
    if (m.name == kManifestMember) {
      NR_TRY_STATUS(check_size(m.name, m.data.size(), limits.manifest_max));
    } else if (m.name == kSignatureMember) {
      NR_TRY_STATUS(check_size(m.name, m.data.size(), limits.signature_max));
    } else if (m.name.ends_with(".ko") && m.name.find('/') == std::string::npos) {
      if (!module_member.empty())
        return Error(Errc::invalid_input, "members '" + module_member + "' and '" + m.name +
                                              "' are both modules; " + std::string(kExpectedMembers));
      NR_TRY_STATUS(check_size(m.name, m.data.size(), limits.module_max));
      module_member = m.name;
    } else {
      return Error(Errc::invalid_input, "unknown member '" + m.name + "'; " + std::string(kExpectedMembers));
    }
    found.emplace(m.name, m.data);
  }
  for (std::string_view need : {kManifestMember, kSignatureMember})
    if (!found.count(need))
      return Error(Errc::invalid_input, "member '" + std::string(need) + "' is missing; " +
                                            std::string(kExpectedMembers));
  if (module_member.empty())
    return Error(Errc::invalid_input, "the module member (<name>.ko) is missing; " + std::string(kExpectedMembers));

  BundleContents c;
  c.manifest_bytes = std::string(as_chars(found.find(kManifestMember)->second));
  NR_TRY(c.signature, parse_signature(as_chars(found.find(kSignatureMember)->second), kSignatureMember));
  NR_TRY(c.manifest, parse_manifest(c.manifest_bytes, kManifestMember));
  if (c.manifest.module.file != module_member)
    return Error(Errc::invalid_input, "the manifest names module '" + c.manifest.module.file +
                                          "' but the bundle holds '" + module_member + "'");
  ByteView mod = found.find(module_member)->second;
  c.module.assign(mod.begin(), mod.end());
  return c;
}

Result<BundleContents> read_bundle(const std::filesystem::path& path, const BundleLimits& limits) {
  auto bytes = read_file(path, limits.archive_max());
  if (!bytes) return std::move(bytes).error();
  auto contents = read_bundle_bytes(*bytes, limits);
  if (!contents) return std::move(contents).error().context(path.string());
  return contents;
}

Result<PublicKey> verify_bundle(const BundleContents& c, const TrustStore& trust) {
  const PublicKey* key = trust.find(c.signature.key_id);
  if (!key) {
    std::string known;
    for (const auto& id : trust.ids()) known += (known.empty() ? "" : ", ") + id;
    return Error(Errc::signature,
                 "signed by key " + c.signature.key_id + ", which is not trusted (trusted keys: " +
                     (known.empty() ? "none" : known) + "); add the publisher's .pub with --trust");
  }
  if (!signature_valid(*key, as_bytes(c.manifest_bytes), c.signature))
    return Error(Errc::signature, "signature by key " + key->id +
                                      " does not match manifest.json: the manifest was modified "
                                      "after signing, or the signature is corrupt");
  if (c.module.size() != c.manifest.module.size)
    return Error(Errc::integrity, "module '" + c.manifest.module.file + "' is " +
                                      std::to_string(c.module.size()) + " bytes but the signed manifest says " +
                                      std::to_string(c.manifest.module.size));
  std::string digest = sha256_hex(c.module);
  if (digest != c.manifest.module.sha256)
    return Error(Errc::integrity, "module '" + c.manifest.module.file + "' has SHA-256 " + digest +
                                      " but the signed manifest says " + c.manifest.module.sha256 +
                                      ": the module was modified");
  return *key;
}

Status check_target_kernel(const Manifest& manifest, const KernelIdentity& actual,
                           std::string_view actual_label) {
  auto diffs = identity_differences(manifest.kernel, actual, "bundle", actual_label);
  if (diffs.empty()) return ok_status();
  std::string msg = "bundle '" + manifest.name + "' is for another kernel:";
  for (const auto& d : diffs) msg += "\n  " + d;
  return Error(Errc::refused, msg);
}

Result<Bytes> build_bundle(Manifest& manifest, ByteView module, const SecretKey& key) {
  manifest.module.file = manifest.name + ".ko";
  manifest.module.size = module.size();
  manifest.module.sha256 = sha256_hex(module);
  if (manifest.module.vermagic.empty()) {
    auto vermagic = module_info_value(module, "vermagic");
    if (!vermagic)
      return std::move(vermagic).error().context("cannot fill module.vermagic from the module (set it explicitly)");
    manifest.module.vermagic = *vermagic;
  }
  if (manifest.created.empty()) manifest.created = rfc3339_utc_now();
  NR_TRY_STATUS(validate_manifest(manifest));
  std::string text = serialize_manifest(manifest);
  std::string sig = format_signature(sign_message(key, as_bytes(text)));
  return write_tar({{std::string(kManifestMember), as_bytes(text)},
                    {std::string(kSignatureMember), as_bytes(sig)},
                    {manifest.module.file, module}});
}

Result<Manifest> write_bundle(const std::filesystem::path& path, Manifest manifest, ByteView module,
                              const SecretKey& key) {
  NR_TRY(auto bytes, build_bundle(manifest, module, key));
  NR_TRY_STATUS(write_file(path, bytes));
  return manifest;
}

Result<Bytes> resign_bundle(const BundleContents& c, const SecretKey& key) {
  std::string sig = format_signature(sign_message(key, as_bytes(c.manifest_bytes)));
  return write_tar({{std::string(kManifestMember), as_bytes(c.manifest_bytes)},
                    {std::string(kSignatureMember), as_bytes(sig)},
                    {c.manifest.module.file, c.module}});
}

Result<std::filesystem::path> extract_module(const BundleContents& c, const std::filesystem::path& dir) {
  const std::string& file = c.manifest.module.file;
  // parse_manifest guarantees this; re-check because a caller may have built `c` by hand.
  if (!file.ends_with(".ko") || !valid_module_name(std::string_view(file).substr(0, file.size() - 3)))
    return Error(Errc::invalid_input, "module file name '" + file + "' is not <module name>.ko");
  std::filesystem::path out = dir / file;
  NR_TRY_STATUS(write_file(out, c.module, {.mode = 0644}));
  return out;
}

Result<std::string> module_info_value(ByteView module, std::string_view key) {
  NR_TRY(auto file, elf_lite::parse(module));
  auto data = elf_lite::section_data(module, file, ".modinfo");
  if (!data) return Error(Errc::invalid_input, "module has no .modinfo section");
  std::string_view info = as_chars(*data);
  std::string prefix = std::string(key) + "=";
  size_t pos = 0;
  while (pos < info.size()) {
    size_t end = info.find('\0', pos);
    if (end == std::string_view::npos) end = info.size();
    std::string_view entry = info.substr(pos, end - pos);
    if (entry.substr(0, prefix.size()) == prefix) return std::string(entry.substr(prefix.size()));
    pos = end + 1;
  }
  return Error(Errc::not_found, "module .modinfo has no '" + std::string(key) + "' entry");
}

}  // namespace noreboot
