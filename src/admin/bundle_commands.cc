// noreboot-admin sign, verify, inspect: making and checking bundles by hand.
//
// `sign` has two forms. From parts: a manifest template (JSON; the module fields, the creation
// time and the builder version are filled in, and a given module sha256/size must agree with the
// module) plus the module file. Or `--bundle IN.nrp`: re-sign an existing bundle's exact manifest
// bytes with another key (e.g. a release key after CI built it), after checking that its module
// still matches. Nothing is written unless every check passed; the output is written atomically.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>

#include "admin/command.h"
#include "core/bundle.h"
#include "core/file_io.h"
#include "core/fix_record.h"
#include "core/kernel_identity.h"

namespace noreboot::admin {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::uint64_t kMaxManifestTemplate = 1 << 20;

constexpr const char* kSignUsage = R"(usage: noreboot-admin sign --key KEY --manifest MANIFEST.json --module MODULE.ko -o OUT.nrp
       noreboot-admin sign --key KEY --bundle IN.nrp -o OUT.nrp
       noreboot-admin sign --key KEY --record fix.json [-o fix.sig]

Writes a signed bundle (docs/bundle-format.md).
  --key KEY          secret key file from 'noreboot-admin keygen' (must be mode 0600)
  --manifest FILE    manifest template: name, sequence, kernel, fixes are required; module.file,
                     module.sha256, module.size are computed from the module; module.vermagic is
                     read from the module's .modinfo when absent; created defaults to now (UTC);
                     builder_version defaults to "noreboot-admin"; format_version to 1
  --module FILE      the livepatch module (.ko)
  --bundle IN.nrp    instead of --manifest/--module: re-sign this bundle's exact manifest
  --record FILE      sign a fix record (docs/bundle-format.md) as it is: it must parse; writes the
                     signature line to fix.sig beside it (or -o), e.g. after re-signing its bundles
  -o, --output OUT   the bundle (or signature) to write (replaced atomically)
)";

constexpr const char* kVerifyUsage = R"(usage: noreboot-admin verify --trust PUB [--trust PUB]... [--kernel IMAGE | --running-kernel] BUNDLE

Checks a bundle the way an agent does, and exits 0 only if every check passes:
  1. the archive: a plain ustar tar with exactly manifest.json, manifest.sig and <name>.ko,
     no links, devices, directories, '..' or absolute paths, each member within its size limit
  2. manifest.json and manifest.sig parse; the module member is the one the manifest names
  3. the signing key is trusted (--trust), and its ed25519 signature over manifest.json is valid
  4. the module's size and SHA-256 equal the signed manifest's
  5. with --kernel/--running-kernel: the bundle's target kernel is exactly that kernel
  --trust PUB        a public key file (.pub) or a folder of them; repeatable
  --kernel IMAGE     a vmlinux or vmlinuz to compare the target kernel with
  --running-kernel   compare with the kernel this runs on
exit codes: 0 verified, 3 rejected (the message says why), 2 usage, 1 other errors
)";

constexpr const char* kInspectUsage = R"(usage: noreboot-admin inspect [--json] BUNDLE

Shows what a bundle contains: the manifest, the signing key id and the module's actual size and
SHA-256. It checks the archive's structure but NOT the signature: use 'verify' for trust.
  --json   one JSON object {"manifest": {...}, "signature": {"key_id"}, "module": {...}}
)";

Result<SecretKey> key_from(const ParsedArgs& args) {
  auto path = args.value("key");
  if (!path) return Error(Errc::invalid_argument, "--key KEY is required (a secret key from 'noreboot-admin keygen')");
  return load_secret_key(*path);
}

// Completes a manifest template with what the module says and returns the Manifest.
Result<Manifest> manifest_from_template(const std::string& path, ByteView module) {
  NR_TRY(auto bytes, read_file(path, kMaxManifestTemplate));
  Json j;
  try {
    j = Json::parse(as_chars(bytes));
  } catch (const Json::parse_error& e) {
    return Error(Errc::invalid_input, path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Error(Errc::invalid_input, path + ": must be a JSON object");
  if (!j.contains("name") || !j["name"].is_string())
    return Error(Errc::invalid_input, path + ": field 'name' is missing or not a string");
  if (!j.contains("module")) j["module"] = Json::object();
  if (!j["module"].is_object()) return Error(Errc::invalid_input, path + ": field 'module' must be an object");
  Json& mod = j["module"];
  std::string digest = sha256_hex(module);
  if (mod.contains("sha256") && mod["sha256"] != digest)
    return Error(Errc::invalid_input, path + ": field 'module.sha256' is " + mod["sha256"].dump() +
                                          " but the module's SHA-256 is " + digest);
  if (mod.contains("size") && mod["size"] != module.size())
    return Error(Errc::invalid_input, path + ": field 'module.size' is " + mod["size"].dump() +
                                          " but the module is " + std::to_string(module.size()) + " bytes");
  mod["file"] = j["name"].get<std::string>() + ".ko";
  mod["sha256"] = digest;
  mod["size"] = module.size();
  if (!mod.contains("vermagic")) {
    auto vermagic = module_info_value(module, "vermagic");
    if (!vermagic)
      return std::move(vermagic).error().context(
          "cannot read vermagic from the module; set module.vermagic in the manifest");
    mod["vermagic"] = *vermagic;
  }
  if (!j.contains("format_version")) j["format_version"] = kManifestFormatVersion;
  if (!j.contains("created")) j["created"] = rfc3339_utc_now();
  if (!j.contains("builder_version")) j["builder_version"] = "noreboot-admin";
  if (!j.contains("fixes")) j["fixes"] = Json::array();
  return parse_manifest(j.dump(), path);
}

Status sign(const ParsedArgs& args, Context& ctx) {
  if (!args.positional.empty())
    return Error(Errc::invalid_argument, "unexpected argument '" + args.positional[0] + "'");
  if (auto record = args.value("record")) {
    if (args.value("bundle") || args.value("manifest") || args.value("module"))
      return Error(Errc::invalid_argument, "--record signs a fix record alone; no --bundle, --manifest or --module");
    NR_TRY(auto key, key_from(args));
    NR_TRY(auto bytes, read_file(*record, kFixRecordMaxBytes));
    NR_TRY(auto parsed, parse_fix_record(as_chars(bytes), *record));
    std::filesystem::path sig_path = args.value("output").value_or(
        (std::filesystem::path(*record).parent_path() / kFixSignatureFile).string());
    NR_TRY_STATUS(write_file(sig_path, as_bytes(format_signature(sign_message(key, bytes)))));
    ctx.out << "wrote " << sig_path.string() << ": fix record for " << parsed.fixes.size() << " fix(es), "
            << parsed.kernels.size() << " kernel(s), signed by key " << key.id() << "\n";
    return ok_status();
  }
  auto out = args.value("output");
  if (!out) return Error(Errc::invalid_argument, "-o OUT.nrp is required");
  auto bundle_in = args.value("bundle");
  auto manifest_path = args.value("manifest");
  auto module_path = args.value("module");
  if (bundle_in && (manifest_path || module_path))
    return Error(Errc::invalid_argument, "give either --bundle or --manifest and --module, not both");
  if (!bundle_in && !(manifest_path && module_path))
    return Error(Errc::invalid_argument, "give --manifest and --module (or --bundle to re-sign)");
  NR_TRY(auto key, key_from(args));

  Bytes archive;
  Manifest manifest;
  if (bundle_in) {
    NR_TRY(auto contents, read_bundle(*bundle_in));
    if (contents.module.size() != contents.manifest.module.size ||
        sha256_hex(contents.module) != contents.manifest.module.sha256)
      return Error(Errc::integrity, *bundle_in + ": module '" + contents.manifest.module.file +
                                        "' does not match its manifest; refusing to re-sign it");
    NR_TRY(archive, resign_bundle(contents, key));
    manifest = contents.manifest;
  } else {
    NR_TRY(auto module, read_file(*module_path, BundleLimits{}.module_max));
    NR_TRY(manifest, manifest_from_template(*manifest_path, module));
    NR_TRY(archive, build_bundle(manifest, module, key));
  }
  NR_TRY_STATUS(write_file(*out, archive));
  ctx.out << "wrote " << *out << ": " << manifest.name << " sequence " << manifest.sequence
          << ", signed by key " << key.id() << "\n";
  return ok_status();
}

Status verify(const ParsedArgs& args, Context& ctx) {
  if (args.positional.size() != 1) return Error(Errc::invalid_argument, "expected one BUNDLE");
  const std::string& path = args.positional[0];
  auto trusted = args.all("trust");
  if (trusted.empty())
    return Error(Errc::invalid_argument, "no trusted keys: give the publisher's public key with --trust PUB");
  if (args.value("kernel") && args.flag("running-kernel"))
    return Error(Errc::invalid_argument, "give --kernel or --running-kernel, not both");
  TrustStore trust;
  for (const auto& t : trusted) NR_TRY_STATUS(trust.add_path(t));

  NR_TRY(auto contents, read_bundle(path));
  auto signer = verify_bundle(contents, trust);
  if (!signer) return std::move(signer).error().context(path);
  const Manifest& m = contents.manifest;
  std::string kernel_note;
  if (args.value("kernel") || args.flag("running-kernel")) {
    auto id = args.value("kernel") ? read_kernel_image(*args.value("kernel")) : read_running_kernel();
    if (!id) return std::move(id).error();
    auto match = check_target_kernel(m, *id, args.value("kernel") ? "given kernel" : "running");
    if (!match.ok()) return Error(match.error()).context(path);
    kernel_note = args.value("kernel") ? " (matches the given kernel)" : " (matches the running kernel)";
  }
  ctx.out << "OK " << path << ": " << m.name << " sequence " << m.sequence << ", signed by key "
          << signer->id << (signer->comment.empty() ? "" : " (" + signer->comment + ")") << "\n"
          << "   module " << m.module.file << " " << m.module.size << " bytes sha256 " << m.module.sha256 << "\n"
          << "   for kernel " << m.kernel.release << " build ID " << m.kernel.build_id << kernel_note << "\n";
  return ok_status();
}

Status inspect(const ParsedArgs& args, Context& ctx) {
  if (args.positional.size() != 1) return Error(Errc::invalid_argument, "expected one BUNDLE");
  NR_TRY(auto c, read_bundle(args.positional[0]));
  const Manifest& m = c.manifest;
  std::string digest = sha256_hex(c.module);
  bool matches = digest == m.module.sha256 && c.module.size() == m.module.size;
  if (args.flag("json")) {
    Json j;
    j["manifest"] = Json::parse(c.manifest_bytes);
    j["signature"] = {{"key_id", c.signature.key_id}, {"verified", false}};
    j["module"] = {{"member", m.module.file},
                   {"size", c.module.size()},
                   {"sha256", digest},
                   {"matches_manifest", matches}};
    ctx.out << j.dump(2) << "\n";
    return ok_status();
  }
  ctx.out << "bundle:     " << args.positional[0] << "\n"
          << "patch:      " << m.name << " sequence " << m.sequence << "\n"
          << "kernel:     " << m.kernel.release << " (" << m.kernel.arch << ")\n"
          << "  version:  " << m.kernel.version << "\n"
          << "  build id: " << m.kernel.build_id << "\n"
          << "module:     " << m.module.file << ", " << m.module.size << " bytes, sha256 " << m.module.sha256
          << (matches ? "" : "  (DOES NOT MATCH the module in the bundle)") << "\n"
          << "  vermagic: " << m.module.vermagic << "\n"
          << "fixes:      " << (m.fixes.empty() ? "(none listed)" : "") << "\n";
  for (const auto& f : m.fixes) ctx.out << "  " << f.id << (f.description.empty() ? "" : ": " + f.description) << "\n";
  ctx.out << "builder:    " << m.builder_version << "\n"
          << "created:    " << m.created << "\n"
          << "signed by:  key " << c.signature.key_id << " (not checked here; use 'noreboot-admin verify')\n";
  return ok_status();
}

}  // namespace

void register_bundle_commands(CommandTable& table) {
  table.push_back({"sign", "write a signed bundle from a manifest and a module, re-sign one, or sign a fix record", kSignUsage,
                   {{"key"}, {"manifest"}, {"module"}, {"bundle"}, {"record"}, {"output", 'o'}}, sign});
  table.push_back({"verify", "check a bundle's signature, module hash and target kernel", kVerifyUsage,
                   {{"trust", 0, true, true}, {"kernel"}, {"running-kernel", 0, false}}, verify});
  table.push_back({"inspect", "show a bundle's manifest (structure only, no trust)", kInspectUsage,
                   {{"json", 0, false}}, inspect});
}

}  // namespace noreboot::admin
