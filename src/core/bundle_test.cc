#include "core/bundle.h"

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "core/tar.h"
#include "core/test_support.h"

namespace noreboot {
namespace {

using testing::TempDir;

Manifest sample_manifest() {
  Manifest m;
  m.name = "nr_test";
  m.sequence = 1;
  m.kernel = {"6.1.0-56-amd64", "Linux version 6.1.0-56-amd64 (x) #1 SMP", "00ff", "x86_64"};
  m.module.vermagic = "6.1.0-56-amd64 SMP preempt mod_unload modversions ";
  m.fixes = {{"CVE-2024-1234", "test"}};
  m.builder_version = "test";
  m.created = "2026-11-23T00:00:00Z";
  return m;
}

struct Fixture {
  SecretKey key = SecretKey::generate();
  TrustStore trust;
  std::string module = std::string("\x7f" "ELF fake module bytes ") + std::string(3000, 'm');
  Manifest manifest = sample_manifest();
  Bytes archive;
  Fixture() {
    trust.add(key.public_key());
    auto b = build_bundle(manifest, as_bytes(module), key);
    EXPECT_TRUE(b.ok()) << b.error().message();
    archive = *b;
  }
};

// Rebuilds an archive from (name, bytes) pairs, for crafting bad bundles.
Bytes tar_of(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<TarFile> tf;
  for (auto& [n, d] : files) tf.push_back({n, as_bytes(d)});
  return *write_tar(tf);
}

std::map<std::string, std::string> members_of(const Bytes& archive) {
  std::map<std::string, std::string> out;
  auto members = read_tar(archive);
  for (auto& m : *members) out[m.name] = std::string(as_chars(m.data));
  return out;
}

std::string read_error(const Bytes& archive, const BundleLimits& limits = {}) {
  auto r = read_bundle_bytes(archive, limits);
  EXPECT_FALSE(r.ok());
  return r ? "" : r.error().message();
}

TEST(Bundle, BuildReadVerify) {
  Fixture f;
  EXPECT_EQ(f.manifest.module.file, "nr_test.ko");
  EXPECT_EQ(f.manifest.module.size, f.module.size());
  EXPECT_EQ(f.manifest.module.sha256, sha256_hex(as_bytes(f.module)));
  auto c = read_bundle_bytes(f.archive);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->manifest, f.manifest);
  EXPECT_EQ(c->manifest_bytes, serialize_manifest(f.manifest));
  EXPECT_EQ(as_chars(c->module), f.module);
  auto signer = verify_bundle(*c, f.trust);
  ASSERT_TRUE(signer.ok()) << signer.error().message();
  EXPECT_EQ(signer->id, f.key.id());
  // Member order is part of the format.
  auto members = *read_tar(f.archive);
  EXPECT_EQ(members[0].name, "manifest.json");
  EXPECT_EQ(members[1].name, "manifest.sig");
  EXPECT_EQ(members[2].name, "nr_test.ko");
}

TEST(Bundle, UntrustedKey) {
  Fixture f;
  TrustStore other;
  other.add(SecretKey::generate().public_key());
  auto c = read_bundle_bytes(f.archive);
  auto r = verify_bundle(*c, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::signature);
  EXPECT_NE(r.error().message().find("not trusted"), std::string::npos);
  EXPECT_NE(r.error().message().find(f.key.id()), std::string::npos);
  EXPECT_FALSE(verify_bundle(*c, TrustStore{}).ok());
}

TEST(Bundle, TamperedManifest) {
  Fixture f;
  auto m = members_of(f.archive);
  std::string& text = m["manifest.json"];
  text.replace(text.find("\"sequence\": 1"), 13, "\"sequence\": 9");
  Bytes bad = tar_of({{"manifest.json", text}, {"manifest.sig", m["manifest.sig"]}, {"nr_test.ko", m["nr_test.ko"]}});
  auto c = read_bundle_bytes(bad);
  ASSERT_TRUE(c.ok()) << c.error().message();  // well-formed, just not authentic
  auto r = verify_bundle(*c, f.trust);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::signature);
  EXPECT_NE(r.error().message().find("does not match manifest.json"), std::string::npos);
}

TEST(Bundle, ModuleHashMismatch) {
  Fixture f;
  auto m = members_of(f.archive);
  std::string mod = m["nr_test.ko"];
  mod[100] ^= 1;
  auto c = read_bundle_bytes(tar_of({{"manifest.json", m["manifest.json"]}, {"manifest.sig", m["manifest.sig"]}, {"nr_test.ko", mod}}));
  ASSERT_TRUE(c.ok());
  auto r = verify_bundle(*c, f.trust);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::integrity);
  EXPECT_NE(r.error().message().find("SHA-256"), std::string::npos);
  mod += "x";
  c = read_bundle_bytes(tar_of({{"manifest.json", m["manifest.json"]}, {"manifest.sig", m["manifest.sig"]}, {"nr_test.ko", mod}}));
  r = verify_bundle(*c, f.trust);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bytes but the signed manifest says"), std::string::npos);
}

TEST(Bundle, MemberSetIsExact) {
  Fixture f;
  auto m = members_of(f.archive);
  std::string man = m["manifest.json"], sig = m["manifest.sig"], mod = m["nr_test.ko"];
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"nr_test.ko", mod}})).find("'manifest.sig' is missing"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.sig", sig}, {"nr_test.ko", mod}})).find("'manifest.json' is missing"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"manifest.sig", sig}})).find("module member"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"manifest.sig", sig}, {"nr_test.ko", mod}, {"extra.txt", "x"}}))
                .find("unknown member 'extra.txt'"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"manifest.json", man}, {"manifest.sig", sig}, {"nr_test.ko", mod}}))
                .find("appears twice"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"manifest.sig", sig}, {"other.ko", mod}}))
                .find("names module 'nr_test.ko' but the bundle holds 'other.ko'"), std::string::npos);
  EXPECT_NE(read_error(tar_of({{"manifest.json", man}, {"manifest.sig", sig}, {"nr_test.ko", mod}, {"b.ko", mod}}))
                .find("both modules"), std::string::npos);
}

TEST(Bundle, OversizedMembers) {
  Fixture f;
  BundleLimits small;
  small.module_max = 1000;
  std::string msg = read_error(f.archive, small);
  EXPECT_NE(msg.find("'nr_test.ko' is " + std::to_string(f.module.size()) + " bytes, more than the limit of 1000"),
            std::string::npos) << msg;
  small = {};
  small.manifest_max = 100;
  EXPECT_NE(read_error(f.archive, small).find("'manifest.json'"), std::string::npos);
  small = {};
  small.signature_max = 10;
  EXPECT_NE(read_error(f.archive, small).find("'manifest.sig'"), std::string::npos);
}

TEST(Bundle, WriteReadFileAndExtract) {
  Fixture f;
  TempDir dir;
  auto written = write_bundle(dir / "fix.nrp", sample_manifest(), as_bytes(f.module), f.key);
  ASSERT_TRUE(written.ok()) << written.error().message();
  auto c = read_bundle(dir / "fix.nrp");
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_TRUE(verify_bundle(*c, f.trust).ok());
  std::filesystem::create_directory(dir / "out");
  auto path = extract_module(*c, dir / "out");
  ASSERT_TRUE(path.ok()) << path.error().message();
  EXPECT_EQ(*path, dir / "out" / "nr_test.ko");
  EXPECT_EQ(as_chars(*read_file(*path, 1 << 20)), f.module);
  // Only the module was written: no temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "out"), {}), 1);
}

TEST(Bundle, ReadBundleNamesTheFile) {
  TempDir dir;
  std::string junk = "not a tar";
  ASSERT_TRUE(write_file(dir / "junk.nrp", as_bytes(junk)).ok());
  auto r = read_bundle(dir / "junk.nrp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("junk.nrp"), std::string::npos);
  EXPECT_EQ(read_bundle(dir / "missing.nrp").error().code(), Errc::not_found);
}

TEST(Bundle, ResignKeepsManifestBytes) {
  Fixture f;
  SecretKey second = SecretKey::generate();
  auto c = read_bundle_bytes(f.archive);
  auto resigned = resign_bundle(*c, second);
  ASSERT_TRUE(resigned.ok());
  auto c2 = read_bundle_bytes(*resigned);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->manifest_bytes, c->manifest_bytes);
  EXPECT_FALSE(verify_bundle(*c2, f.trust).ok());
  TrustStore t2;
  t2.add(second.public_key());
  EXPECT_TRUE(verify_bundle(*c2, t2).ok());
}

TEST(Bundle, TargetKernelCheck) {
  Manifest m = sample_manifest();
  EXPECT_TRUE(check_target_kernel(m, m.kernel).ok());
  KernelIdentity other = m.kernel;
  other.build_id = "ff00";
  auto s = check_target_kernel(m, other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::refused);
  EXPECT_NE(s.error().message().find("build ID differs: bundle '00ff', running 'ff00'"), std::string::npos)
      << s.error().message();
}

TEST(Bundle, VermagicRequiredWhenModuleHasNone) {
  Fixture f;
  Manifest m = sample_manifest();
  m.module.vermagic.clear();
  auto r = build_bundle(m, as_bytes(f.module), f.key);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("vermagic"), std::string::npos);
}

}  // namespace
}  // namespace noreboot
