#include "core/fix_record.h"

#include <set>

#include "core/bytes.h"
#include "core/file_io.h"
#include "core/json_fields.h"

namespace noreboot {
namespace {

using Json = nlohmann::json;
using json_fields::FieldReader;

constexpr KernelOutcome kOutcomes[] = {KernelOutcome::built,     KernelOutcome::already_fixed,
                                       KernelOutcome::does_not_apply, KernelOutcome::refused,
                                       KernelOutcome::no_change, KernelOutcome::unavailable,
                                       KernelOutcome::failed};

bool sha256_text(std::string_view s) { return s.size() == 64 && is_lower_hex(s); }

Status check_fields(const FixRecord& r, const std::string& src) {
  auto bad = [&](const std::string& field, const std::string& what) {
    return Error(Errc::invalid_input, src + ": field '" + field + "' " + what);
  };
  if (r.format_version != kFixRecordFormatVersion)
    return bad("format_version", "is " + std::to_string(r.format_version) + "; this noreboot reads version " +
                                     std::to_string(kFixRecordFormatVersion) + " (upgrade noreboot)");
  if (r.fixes.empty()) return bad("fixes", "must name at least one fix (noreboot-build --fix ID:text)");
  std::set<std::string> ids;
  for (size_t i = 0; i < r.fixes.size(); ++i) {
    const std::string key = "fixes[" + std::to_string(i) + "].id";
    if (!valid_fix_id(r.fixes[i].id))
      return bad(key, "'" + r.fixes[i].id.substr(0, 64) + "' is not a fix id (1-128 of A-Z a-z 0-9 . _ + -)");
    if (!ids.insert(r.fixes[i].id).second) return bad(key, "'" + r.fixes[i].id + "' appears twice");
  }
  if (r.patch_name.empty()) return bad("patch.name", "must not be empty");
  if (!sha256_text(r.patch_sha256)) return bad("patch.sha256", "must be 64 lowercase hex digits");
  if (r.kernels.empty()) return bad("kernels", "must name at least one kernel");
  std::set<std::string> releases;
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const FixRecordKernel& k = r.kernels[i];
    const std::string at = "kernels[" + std::to_string(i) + "]";
    if (k.release.empty()) return bad(at + ".release", "must not be empty");
    if (!releases.insert(k.release).second)
      return bad(at + ".release", "'" + k.release + "' appears twice: one record holds one outcome (and at most one bundle) per kernel");
    if (k.version.empty()) return bad(at + ".version", "must not be empty");
    if (k.outcome == KernelOutcome::built) {
      if (!k.bundle) return bad(at + ".bundle", "is missing: a built kernel names its bundle");
      const FixRecordBundle& b = *k.bundle;
      if (b.file.empty() || b.file.find('/') != std::string::npos)
        return bad(at + ".bundle.file", "must be a file name (no '/')");
      if (!sha256_text(b.sha256)) return bad(at + ".bundle.sha256", "must be 64 lowercase hex digits");
      if (b.build_id.empty() || b.build_id.size() % 2 != 0 || !is_lower_hex(b.build_id))
        return bad(at + ".bundle.build_id", "must be the build ID in lowercase hex");
      if (!valid_module_name(b.module))
        return bad(at + ".bundle.module", "'" + b.module + "' is not a valid kernel module name");
      if (b.sequence == 0) return bad(at + ".bundle.sequence", "must be at least 1");
    } else if (k.bundle) {
      return bad(at + ".bundle", "is given but the outcome is " + std::string(kernel_outcome_name(k.outcome)) +
                                     ": only a built kernel has a bundle");
    }
  }
  if (r.builder_version.empty()) return bad("builder_version", "must not be empty");
  if (!json_fields::valid_rfc3339_utc(r.created))
    return bad("created", "'" + r.created + "' is not an RFC 3339 UTC time like 2026-11-23T00:15:00Z");
  return ok_status();
}

Result<FixRecord> parse_json(const Json& root, const std::string& src) {
  if (!root.is_object()) return Error(Errc::invalid_input, src + ": must be a JSON object");
  FieldReader r(root, src, "");
  FixRecord rec;
  NR_TRY(auto fv, r.unsigned_number("format_version"));
  if (fv != static_cast<std::uint64_t>(kFixRecordFormatVersion))
    return r.error("format_version", "is " + std::to_string(fv) + "; this noreboot reads version " +
                                         std::to_string(kFixRecordFormatVersion) + " (upgrade noreboot)");
  rec.format_version = static_cast<int>(fv);
  NR_TRY(const Json* fixes, r.array("fixes"));
  for (size_t i = 0; i < fixes->size(); ++i) {
    const std::string key = "fixes[" + std::to_string(i) + "]";
    if (!(*fixes)[i].is_object()) return r.error(key, "must be an object {\"id\", \"description\"}");
    FieldReader fr((*fixes)[i], src, key);
    Fix f;
    NR_TRY(f.id, fr.string("id"));
    NR_TRY(f.description, fr.string("description", true));
    rec.fixes.push_back(std::move(f));
  }
  NR_TRY(auto patch, r.object("patch"));
  NR_TRY(rec.patch_name, patch.string("name"));
  NR_TRY(rec.patch_sha256, patch.string("sha256"));
  NR_TRY(const Json* kernels, r.array("kernels"));
  for (size_t i = 0; i < kernels->size(); ++i) {
    const std::string key = "kernels[" + std::to_string(i) + "]";
    if (!(*kernels)[i].is_object()) return r.error(key, "must be an object");
    FieldReader kr((*kernels)[i], src, key);
    FixRecordKernel k;
    NR_TRY(k.release, kr.string("release"));
    NR_TRY(k.version, kr.string("version"));
    NR_TRY(auto outcome, kr.string("outcome"));
    auto o = parse_kernel_outcome(outcome);
    if (!o)
      return kr.error("outcome", "'" + outcome.substr(0, 32) +
                                     "' is not one of built, already_fixed, does_not_apply, refused, no_change, "
                                     "unavailable, failed");
    k.outcome = *o;
    if (kr.has("bundle")) {
      NR_TRY(auto b, kr.object("bundle"));
      FixRecordBundle fb;
      NR_TRY(fb.file, b.string("file"));
      NR_TRY(fb.sha256, b.string("sha256"));
      NR_TRY(fb.build_id, b.string("build_id"));
      NR_TRY(fb.module, b.string("module"));
      NR_TRY(fb.sequence, b.unsigned_number("sequence"));
      k.bundle = std::move(fb);
    }
    if (kr.has("reason")) {
      NR_TRY(k.reason, kr.string("reason", true));
    }
    rec.kernels.push_back(std::move(k));
  }
  NR_TRY(rec.builder_version, r.string("builder_version"));
  NR_TRY(rec.created, r.string("created"));
  NR_TRY_STATUS(check_fields(rec, src));
  return rec;
}

}  // namespace

std::string_view kernel_outcome_name(KernelOutcome o) {
  switch (o) {
    case KernelOutcome::built: return "built";
    case KernelOutcome::already_fixed: return "already_fixed";
    case KernelOutcome::does_not_apply: return "does_not_apply";
    case KernelOutcome::refused: return "refused";
    case KernelOutcome::no_change: return "no_change";
    case KernelOutcome::unavailable: return "unavailable";
    case KernelOutcome::failed: return "failed";
  }
  return "failed";
}

std::optional<KernelOutcome> parse_kernel_outcome(std::string_view s) {
  for (auto o : kOutcomes)
    if (kernel_outcome_name(o) == s) return o;
  return std::nullopt;
}

bool valid_fix_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '+' || c == '-'))
      return false;
  return true;
}

Result<FixRecord> parse_fix_record(std::string_view text, std::string_view source) {
  std::string src(source);
  if (text.size() > kFixRecordMaxBytes)
    return Error(Errc::invalid_input, src + ": " + std::to_string(text.size()) + " bytes, more than the limit of " +
                                          std::to_string(kFixRecordMaxBytes));
  NR_TRY(Json root, json_fields::parse_strict(text, src));
  try {
    return parse_json(root, src);
  } catch (const std::exception& e) {  // nlohmann type errors should not happen after the checks
    return Error(Errc::invalid_input, src + ": " + e.what());
  }
}

Status validate_fix_record(const FixRecord& record) { return check_fields(record, "fix record"); }

std::string serialize_fix_record(const FixRecord& r) {
  nlohmann::ordered_json j;
  j["format_version"] = r.format_version;
  j["fixes"] = nlohmann::ordered_json::array();
  for (const auto& f : r.fixes) j["fixes"].push_back({{"id", f.id}, {"description", f.description}});
  j["patch"] = {{"name", r.patch_name}, {"sha256", r.patch_sha256}};
  j["kernels"] = nlohmann::ordered_json::array();
  for (const auto& k : r.kernels) {
    nlohmann::ordered_json e;
    e["release"] = k.release;
    e["version"] = k.version;
    e["outcome"] = kernel_outcome_name(k.outcome);
    if (k.bundle)
      e["bundle"] = {{"file", k.bundle->file}, {"sha256", k.bundle->sha256}, {"build_id", k.bundle->build_id},
                     {"module", k.bundle->module}, {"sequence", k.bundle->sequence}};
    if (k.outcome != KernelOutcome::built) e["reason"] = k.reason;
    j["kernels"].push_back(std::move(e));
  }
  j["builder_version"] = r.builder_version;
  j["created"] = r.created;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<SignedFixRecord> sign_fix_record(const FixRecord& record, const SecretKey& key) {
  NR_TRY_STATUS(validate_fix_record(record));
  SignedFixRecord out;
  out.record = serialize_fix_record(record);
  out.signature = format_signature(sign_message(key, as_bytes(out.record)));
  return out;
}

Result<VerifiedFixRecord> verify_fix_record(std::string_view record_bytes, std::string_view signature_text,
                                            const TrustStore& trust) {
  // The signature first: a record changed after signing is "modified", whatever the change did
  // to its JSON.
  NR_TRY(auto sig, parse_signature(signature_text, kFixSignatureFile));
  if (record_bytes.size() > kFixRecordMaxBytes)
    return Error(Errc::invalid_input, std::string(kFixRecordFile) + ": more than " +
                                          std::to_string(kFixRecordMaxBytes) + " bytes");
  const PublicKey* key = trust.find(sig.key_id);
  if (!key) {
    std::string known;
    for (const auto& id : trust.ids()) known += (known.empty() ? "" : ", ") + id;
    return Error(Errc::signature, "fix record signed by key " + sig.key_id + ", which is not trusted (trusted keys: " +
                                      (known.empty() ? "none" : known) + ")");
  }
  if (!signature_valid(*key, as_bytes(record_bytes), sig))
    return Error(Errc::signature, "signature by key " + key->id +
                                      " does not match fix.json: the record was modified after signing, or the "
                                      "signature is corrupt");
  NR_TRY(auto record, parse_fix_record(record_bytes));
  return VerifiedFixRecord{std::move(record), *key};
}

Status write_fix_record(const std::filesystem::path& dir, const SignedFixRecord& s) {
  NR_TRY_STATUS(write_file(dir / kFixRecordFile, as_bytes(s.record)));
  return write_file(dir / kFixSignatureFile, as_bytes(s.signature));
}

}  // namespace noreboot
