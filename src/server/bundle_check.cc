#include "server/bundle_check.h"

#include <memory>

#include "core/bundle.h"

namespace noreboot::server {

namespace {

const char* kNoTrust =
    "the server trusts no publisher key; add the publisher's .pub file to 'trust' in the "
    "server config (or --trust) and restart";

Result<std::shared_ptr<TrustStore>> load_trust(const std::vector<std::string>& trust_paths) {
  auto trust = std::make_shared<TrustStore>();
  for (const auto& p : trust_paths) {
    auto st = trust->add_path(p);
    if (!st) return std::move(st).error().context("trust " + p);
  }
  return trust;
}

}  // namespace

Result<FixRecordVerifier> make_fix_record_verifier(const std::vector<std::string>& trust_paths) {
  NR_TRY(auto trust, load_trust(trust_paths));
  return FixRecordVerifier([trust](const std::string& record, const std::string& signature) -> Result<VerifiedFixRecord> {
    if (trust->empty()) return Error(Errc::refused, kNoTrust);
    return verify_fix_record(record, signature, *trust);
  });
}

Result<BundleVerifier> make_bundle_verifier(const std::vector<std::string>& trust_paths) {
  NR_TRY(auto trust, load_trust(trust_paths));
  return BundleVerifier([trust](const std::string& nrp) -> Result<PublishedBundle> {
    if (trust->empty()) return Error(Errc::refused, kNoTrust);
    NR_TRY(auto contents, read_bundle_bytes(as_bytes(nrp)));
    NR_TRY(auto key, verify_bundle(contents, *trust));
    const Manifest& m = contents.manifest;
    PublishedBundle out;
    out.patch_name = m.name;
    out.sequence = static_cast<std::int64_t>(m.sequence);
    out.kernel = {m.kernel.release, m.kernel.version, m.kernel.build_id, m.kernel.arch};
    out.signer_key_id = key.id;
    for (const auto& f : m.fixes) out.fix_ids.push_back(f.id);
    if (m.sequence == 0 || m.sequence > static_cast<std::uint64_t>(INT64_MAX))
      return Error(Errc::invalid_input, "manifest: sequence must be 1..2^63-1");
    if (!api::is_build_id_hex(m.kernel.build_id))
      return Error(Errc::invalid_input, "manifest: kernel.build_id must be lowercase hex");
    return out;
  });
}

}  // namespace noreboot::server
