#include "core/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "core/test_support.h"

namespace noreboot {
namespace {

using testing::TempDir;

TEST(Keys, PublicKeyRoundTripAndId) {
  SecretKey key = SecretKey::generate("ci publisher");
  PublicKey pub = key.public_key();
  EXPECT_EQ(pub.id.size(), 16u);
  EXPECT_EQ(pub.id, key_id_for(pub.bytes));
  std::string text = format_public_key(pub);
  EXPECT_EQ(text.rfind("noreboot-ed25519-public-v1 ", 0), 0u);
  auto parsed = parse_public_key(text, "k.pub");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->bytes, pub.bytes);
  EXPECT_EQ(parsed->id, pub.id);
  EXPECT_EQ(parsed->comment, "ci publisher");
}

TEST(Keys, SecretKeyRoundTripGivesSameKeyPair) {
  SecretKey key = SecretKey::generate();
  auto parsed = parse_secret_key(format_secret_key(key), "k.key");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->public_key().bytes, key.public_key().bytes);
}

TEST(Keys, EditedKeyIdIsRefused) {
  SecretKey key = SecretKey::generate();
  std::string text = format_public_key(key.public_key());
  text.replace(text.find(key.id()), 16, "0000000000000000");
  auto r = parse_public_key(text, "k.pub");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("does not match the key"), std::string::npos);
}

TEST(Keys, WrongFileKindsAreNamed) {
  SecretKey key = SecretKey::generate();
  auto r1 = parse_public_key(format_secret_key(key), "k.key");
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message().find("SECRET key"), std::string::npos);
  auto r2 = parse_secret_key(format_public_key(key.public_key()), "k.pub");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("PUBLIC key"), std::string::npos);
  EXPECT_FALSE(parse_public_key("hello", "x").ok());
  EXPECT_FALSE(parse_secret_key("noreboot-ed25519-secret-v1\nAAAA\n", "x").ok());
}

TEST(Keys, SignAndVerify) {
  SecretKey key = SecretKey::generate();
  std::string msg = "manifest bytes";
  Signature sig = sign_message(key, as_bytes(msg));
  EXPECT_EQ(sig.key_id, key.id());
  EXPECT_TRUE(signature_valid(key.public_key(), as_bytes(msg), sig));
  std::string tampered = "manifest bytez";
  EXPECT_FALSE(signature_valid(key.public_key(), as_bytes(tampered), sig));
  SecretKey other = SecretKey::generate();
  EXPECT_FALSE(signature_valid(other.public_key(), as_bytes(msg), sig));
}

TEST(Keys, SignatureTextRoundTrip) {
  SecretKey key = SecretKey::generate();
  Signature sig = sign_message(key, as_bytes(std::string("x")));
  auto parsed = parse_signature(format_signature(sig), "manifest.sig");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->key_id, sig.key_id);
  EXPECT_EQ(parsed->bytes, sig.bytes);
  EXPECT_FALSE(parse_signature("noreboot-ed25519-signature-v1 abc AAAA\n", "s").ok());
  EXPECT_FALSE(parse_signature("", "s").ok());
}

TEST(Keys, SaveKeyPairModesAndNoOverwrite) {
  TempDir dir;
  SecretKey key = SecretKey::generate("t");
  ASSERT_TRUE(save_key_pair(dir / "pub1", key).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "pub1.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "pub1.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto loaded = load_secret_key(dir / "pub1.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->id(), key.id());
  auto pub = load_public_key(dir / "pub1.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->id, key.id());

  SecretKey other = SecretKey::generate();
  Status again = save_key_pair(dir / "pub1", other);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::conflict);
  // The existing pair is untouched.
  EXPECT_EQ(load_public_key(dir / "pub1.pub")->id, key.id());
  EXPECT_EQ(load_secret_key(dir / "pub1.key")->id(), key.id());
}

TEST(Keys, SecretKeyReadableByOthersIsRefused) {
  TempDir dir;
  SecretKey key = SecretKey::generate();
  ASSERT_TRUE(save_key_pair(dir / "k", key).ok());
  ASSERT_EQ(::chmod((dir / "k.key").c_str(), 0640), 0);
  auto r = load_secret_key(dir / "k.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::refused);
  EXPECT_NE(r.error().message().find("chmod 600"), std::string::npos);
}

TEST(Keys, TrustStoreLoadsFilesAndFolders) {
  TempDir dir;
  std::filesystem::create_directory(dir / "trusted");
  SecretKey a = SecretKey::generate(), b = SecretKey::generate(), c = SecretKey::generate();
  ASSERT_TRUE(save_key_pair(dir / "trusted/a", a).ok());
  ASSERT_TRUE(save_key_pair(dir / "trusted/b", b).ok());
  ASSERT_TRUE(save_key_pair(dir / "c", c).ok());
  TrustStore trust;
  ASSERT_TRUE(trust.add_path(dir / "trusted").ok());  // *.key files in it are ignored
  EXPECT_EQ(trust.size(), 2u);
  EXPECT_NE(trust.find(a.id()), nullptr);
  EXPECT_EQ(trust.find(c.id()), nullptr);
  ASSERT_TRUE(trust.add_path(dir / "c.pub").ok());
  EXPECT_NE(trust.find(c.id()), nullptr);
  auto missing = trust.add_path(dir / "nope.pub");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::not_found);
}

}  // namespace
}  // namespace noreboot
