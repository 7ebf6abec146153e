// The builder's fix record: made from the per-kernel reports of a multi-kernel build, each built
// bundle read back from DIR, signed with the bundles' key (bundles and keys made at test time).
#include "builder/fix_record_out.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/bundle.h"
#include "core/file_io.h"

namespace noreboot::builder {
namespace {
namespace fs = std::filesystem;

class FixRecordOut : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nr-fixrecout-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    key_ = SecretKey::generate("test");
    ASSERT_TRUE(save_key_pair(dir_ / "pub", key_).ok());
    std::ofstream(dir_ / "nfsd.patch") << "--- a/fs/nfsd/x.c\n+++ b/fs/nfsd/x.c\n@@ -1 +1 @@\n-a\n+b\n";
    config_.patch = dir_ / "nfsd.patch";
    config_.key = dir_ / "pub.key";
    config_.fixes = {"CVE-2026-99362:nfsd: use after free"};
  }
  void TearDown() override { fs::remove_all(dir_); }

  KernelReport built(const std::string& abi, std::vector<Fix> fixes) {
    Manifest m;
    m.name = "nr_nfsd";
    m.sequence = 42;
    m.kernel = {abi, "#1 SMP Debian 6.1.192-1", "abcdef01", "x86_64"};
    m.module.vermagic = abi + " SMP";
    m.fixes = std::move(fixes);
    m.builder_version = "test";
    std::string module = "\x7f" "ELF module";
    EXPECT_TRUE(write_bundle(dir_ / (abi + ".nrp"), m, as_bytes(module), key_).ok());
    KernelReport r;
    r.target = {abi, "6.1.192-1", true, "", false};
    r.outcome = Outcome::built;
    r.bundle = dir_ / (abi + ".nrp");
    r.module_name = "nr_nfsd";
    r.sequence = 42;
    return r;
  }
  KernelReport other(const std::string& abi, Outcome o, std::string detail = "", bool failed = false) {
    KernelReport r;
    r.target = {abi, "6.1.1-1", true, "", false};
    r.outcome = o;
    r.failed = failed;
    r.detail = std::move(detail);
    return r;
  }

  fs::path dir_;
  SecretKey key_;
  BuildConfig config_;
};

TEST_F(FixRecordOut, OneEntryPerKernelSignedWithTheBundlesKey) {
  auto refused = other("6.1.0-50-amd64", Outcome::refused);
  refused.refusals = {{"nfsd_open", "changes a data structure", "keep the layout"}};
  std::vector<KernelReport> reports = {
      built("6.1.0-55-amd64", {{"CVE-2026-1", "earlier"}, {"CVE-2026-99362", "nfsd: use after free"}}),
      other("6.1.0-57-amd64", Outcome::already_fixed), refused,
      other("6.1.0-48-amd64", Outcome::unavailable, "the archive serves only its image"),
      other("6.1.0-47-amd64", Outcome::built, "kernel-fetch failed", true)};
  auto note = write_build_fix_record(dir_, config_, reports);
  ASSERT_TRUE(note.ok()) << note.error().message();
  EXPECT_NE(note->find("signed by key " + key_.id()), std::string::npos) << *note;

  auto rec = read_file(dir_ / "fix.json", kFixRecordMaxBytes);
  auto sig = read_file(dir_ / "fix.sig", 4096);
  ASSERT_TRUE(rec.ok() && sig.ok());
  TrustStore trust;
  trust.add(key_.public_key());
  auto v = verify_fix_record(as_chars(*rec), as_chars(*sig), trust);
  ASSERT_TRUE(v.ok()) << v.error().message();
  const FixRecord& r = v->record;
  ASSERT_EQ(r.fixes.size(), 1u);  // this build's fix, not the earlier ones the bundle carries
  EXPECT_EQ(r.fixes[0].id, "CVE-2026-99362");
  EXPECT_EQ(r.fixes[0].description, "nfsd: use after free");
  EXPECT_EQ(r.patch_name, "nfsd.patch");
  auto patch = read_file(config_.patch, 1 << 20);
  EXPECT_EQ(r.patch_sha256, sha256_hex(*patch));
  ASSERT_EQ(r.kernels.size(), 5u);
  const auto& k0 = r.kernels[0];
  EXPECT_EQ(k0.outcome, KernelOutcome::built);
  ASSERT_TRUE(k0.bundle.has_value());
  auto nrp = read_file(dir_ / "6.1.0-55-amd64.nrp", 1 << 20);
  EXPECT_EQ(k0.bundle->sha256, sha256_hex(*nrp));  // the .nrp file, the bundle's id on the server
  EXPECT_EQ(k0.bundle->file, "6.1.0-55-amd64.nrp");
  EXPECT_EQ(k0.bundle->build_id, "abcdef01");
  EXPECT_EQ(k0.bundle->module, "nr_nfsd");
  EXPECT_EQ(k0.bundle->sequence, 42u);
  EXPECT_EQ(k0.version, "6.1.192-1");
  EXPECT_EQ(r.kernels[1].outcome, KernelOutcome::already_fixed);
  EXPECT_EQ(r.kernels[1].reason, "its source already contains the fix");
  EXPECT_EQ(r.kernels[2].outcome, KernelOutcome::refused);
  EXPECT_EQ(r.kernels[2].reason, "nfsd_open: changes a data structure");
  EXPECT_EQ(r.kernels[3].outcome, KernelOutcome::unavailable);
  EXPECT_EQ(r.kernels[4].outcome, KernelOutcome::failed);
  EXPECT_EQ(r.kernels[4].reason, "kernel-fetch failed");
}

TEST_F(FixRecordOut, WithoutAFixIdNothingIsWritten) {
  config_.fixes.clear();
  auto note = write_build_fix_record(dir_, config_, {other("6.1.0-57-amd64", Outcome::already_fixed)});
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("--fix ID:text"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "fix.json"));
  EXPECT_FALSE(fs::exists(dir_ / "fix.sig"));
}

TEST_F(FixRecordOut, ABundleWithoutTheFixIsAnError) {
  auto r = make_fix_record(config_, {built("6.1.0-55-amd64", {{"CVE-1", ""}})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("does not carry fix CVE-2026-99362"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace noreboot::builder
