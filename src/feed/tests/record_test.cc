// A kernel whose QEMU test failed: refused in the fix record, which is signed again with the
// publisher key (and verifies), its bundle file gone; the other kernels untouched.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/file_io.h"
#include "core/keys.h"
#include "feed/record.h"

namespace noreboot::feed {
namespace {
namespace fs = std::filesystem;

FixRecord two_kernels() {
  FixRecord r;
  r.fixes = {{"CVE-2026-99362", "nfsd: preflight SEQUENCE replies"}};
  r.patch_name = "fix.patch";
  r.patch_sha256 = std::string(64, 'a');
  for (const char* k : {"6.1.0-55-amd64", "6.1.0-56-amd64"}) {
    FixRecordKernel e;
    e.release = k;
    e.version = "6.1.192-1";
    e.outcome = KernelOutcome::built;
    e.bundle = FixRecordBundle{std::string(k) + ".nrp", std::string(64, 'b'), std::string(40, 'c'), "nr_fix", 7};
    r.kernels.push_back(e);
  }
  r.builder_version = "noreboot-build 0.1.0";
  r.created = "2026-12-03T00:00:00Z";
  return r;
}

TEST(FeedRecord, RefuseKernelResignsAndDropsItsBundle) {
  std::string t = (fs::temp_directory_path() / "nr-feed-record.XXXXXX").string();
  fs::path dir = ::mkdtemp(t.data());
  SecretKey key = SecretKey::generate("feed test");
  ASSERT_TRUE(save_key_pair(dir / "publisher", key).ok());
  auto signed_record = sign_fix_record(two_kernels(), key);
  ASSERT_TRUE(signed_record.ok()) << signed_record.error().message();
  ASSERT_TRUE(write_fix_record(dir, *signed_record).ok());
  std::ofstream(dir / "6.1.0-55-amd64.nrp") << "x";
  std::ofstream(dir / "6.1.0-56-amd64.nrp") << "y";

  ASSERT_TRUE(refuse_kernel(dir, "6.1.0-56-amd64", "the QEMU smoke test failed: Oops", dir / "publisher.key").ok());
  auto bytes = read_file(dir / "fix.json", kFixRecordMaxBytes);
  auto sig = read_file(dir / "fix.sig", 4096);
  ASSERT_TRUE(bytes.ok() && sig.ok());
  TrustStore trust;
  trust.add(key.public_key());
  auto verified = verify_fix_record(as_chars(*bytes), as_chars(*sig), trust);
  ASSERT_TRUE(verified.ok()) << verified.error().message();
  const auto& ks = verified->record.kernels;
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ks[0].outcome, KernelOutcome::built);
  EXPECT_EQ(ks[1].outcome, KernelOutcome::refused);
  EXPECT_FALSE(ks[1].bundle.has_value());
  EXPECT_EQ(ks[1].reason, "the QEMU smoke test failed: Oops");
  EXPECT_TRUE(fs::exists(dir / "6.1.0-55-amd64.nrp"));
  EXPECT_FALSE(fs::exists(dir / "6.1.0-56-amd64.nrp"));
  EXPECT_EQ(built_kernels(verified->record).size(), 1u);

  // Again (a run killed after the first): still fine, same result.
  EXPECT_TRUE(refuse_kernel(dir, "6.1.0-56-amd64", "the QEMU smoke test failed: Oops", dir / "publisher.key").ok());
  // A kernel the record does not name is an error naming it.
  auto missing = refuse_kernel(dir, "6.1.0-99-amd64", "x", dir / "publisher.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("6.1.0-99-amd64"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace noreboot::feed
