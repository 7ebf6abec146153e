// The build's fix record, as the feed reads and amends it: see record.h.
#include "feed/record.h"

#include "core/file_io.h"
#include "core/keys.h"

namespace noreboot::feed {

Result<FixRecord> read_record(const std::filesystem::path& dir) {
  auto file = dir / std::string(kFixRecordFile);
  NR_TRY(auto bytes, read_file(file, kFixRecordMaxBytes));
  return parse_fix_record(as_chars(bytes), file.string());
}

std::vector<BuiltKernel> built_kernels(const FixRecord& record) {
  std::vector<BuiltKernel> out;
  for (const auto& k : record.kernels)
    if (k.outcome == KernelOutcome::built && k.bundle)
      out.push_back({k.release, k.version, k.bundle->file, k.bundle->sha256, k.bundle->module});
  return out;
}

Status refuse_kernel(const std::filesystem::path& dir, const std::string& release, const std::string& reason,
                     const std::filesystem::path& publisher_key) {
  NR_TRY(auto record, read_record(dir));
  std::string file;
  bool found = false;
  for (auto& k : record.kernels) {
    if (k.release != release) continue;
    found = true;
    if (k.bundle) file = k.bundle->file;
    k.outcome = KernelOutcome::refused;
    k.bundle.reset();
    k.reason = reason;
  }
  if (!found) return Error(Errc::not_found, (dir / "fix.json").string() + ": no kernel " + release);
  NR_TRY(auto key, load_secret_key(publisher_key));
  NR_TRY(auto signed_record, sign_fix_record(record, key));
  NR_TRY_STATUS(write_fix_record(dir, signed_record));
  if (!file.empty()) {
    std::error_code ec;
    std::filesystem::remove(dir / file, ec);
    if (ec) return Error(Errc::io, (dir / file).string() + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace noreboot::feed
