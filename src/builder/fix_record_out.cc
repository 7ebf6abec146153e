#include "builder/fix_record_out.h"

#include "builder/livepatch.h"
#include "core/bundle.h"
#include "core/bytes.h"
#include "core/file_io.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

KernelOutcome record_outcome(const KernelReport& r) {
  if (r.failed) return KernelOutcome::failed;
  switch (r.outcome) {
    case Outcome::built: return KernelOutcome::built;
    case Outcome::refused: return KernelOutcome::refused;
    case Outcome::no_change: return KernelOutcome::no_change;
    case Outcome::already_fixed: return KernelOutcome::already_fixed;
    case Outcome::does_not_apply: return KernelOutcome::does_not_apply;
    case Outcome::unavailable: return KernelOutcome::unavailable;
  }
  return KernelOutcome::failed;
}

std::string reason_of(const KernelReport& r, KernelOutcome o) {
  std::string reason;
  for (const auto& f : r.refusals) reason += (reason.empty() ? "" : "\n") + f.what + ": " + f.reason;
  if (!reason.empty()) return reason;
  if (!r.detail.empty()) return r.detail;
  switch (o) {
    case KernelOutcome::already_fixed: return "its source already contains the fix";
    case KernelOutcome::no_change: return "the fix changes no object of this kernel";
    default: return "";
  }
}

}  // namespace

Result<FixRecord> make_fix_record(const BuildConfig& config, const std::vector<KernelReport>& reports) {
  FixRecord rec;
  rec.fixes = fixes_of(config);
  if (rec.fixes.empty())
    return Error(Errc::invalid_argument, "no --fix ID:text given: a fix record is about fix ids");
  NR_TRY(auto patch, read_file(config.patch, 64u << 20));
  rec.patch_name = config.patch.filename().string();
  rec.patch_sha256 = sha256_hex(patch);
  for (const auto& r : reports) {
    FixRecordKernel k;
    k.release = r.target.abi;
    k.version = r.target.version;
    k.outcome = record_outcome(r);
    if (k.outcome == KernelOutcome::built) {
      NR_TRY(auto bytes, read_file(r.bundle, BundleLimits{}.archive_max()));
      NR_TRY(auto contents, read_bundle_bytes(bytes));
      const Manifest& m = contents.manifest;
      if (m.kernel.release != r.target.abi)
        return Error(Errc::internal, r.bundle.string() + " is for " + m.kernel.release + ", not " + r.target.abi);
      for (const auto& f : rec.fixes) {
        bool carried = false;
        for (const auto& mf : m.fixes) carried |= mf.id == f.id;
        if (!carried) return Error(Errc::internal, r.bundle.string() + " does not carry fix " + f.id);
      }
      k.bundle = FixRecordBundle{r.bundle.filename().string(), sha256_hex(bytes), m.kernel.build_id, m.name, m.sequence};
    } else {
      k.reason = reason_of(r, k.outcome);
    }
    rec.kernels.push_back(std::move(k));
  }
  rec.builder_version = "noreboot-build 0.1.0";
  rec.created = rfc3339_utc_now();
  return rec;
}

Result<std::string> write_build_fix_record(const fs::path& dir, const BuildConfig& config,
                                           const std::vector<KernelReport>& reports) {
  if (config.fixes.empty())
    return std::string("no fix record written: give the fix's id with --fix ID:text (the server tracks exposure per fix id)");
  NR_TRY(auto rec, make_fix_record(config, reports));
  std::string note;
  NR_TRY(auto key, load_publisher_key(config.key, note));
  NR_TRY(auto signed_record, sign_fix_record(rec, key));
  NR_TRY_STATUS(write_fix_record(dir, signed_record));
  return "fix record: " + (dir / kFixRecordFile).string() + " (" + std::to_string(rec.kernels.size()) +
         " kernel(s), signed by key " + key.id() + note + ")";
}

}  // namespace noreboot::builder
