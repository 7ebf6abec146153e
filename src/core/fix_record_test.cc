#include "core/fix_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <random>

#include "core/bytes.h"
#include "core/file_io.h"

namespace noreboot {
namespace {

FixRecord sample() {
  FixRecord r;
  r.fixes = {{"CVE-2026-99362", "nfsd: fix a use-after-free"}, {"NR-17", ""}};
  r.patch_name = "nfsd-uaf.patch";
  r.patch_sha256 = std::string(64, 'c');
  r.kernels = {
      {"6.1.0-55-amd64", "6.1.192-1", KernelOutcome::built,
       FixRecordBundle{"6.1.0-55-amd64.nrp", std::string(64, 'a'), "0a1b2c", "nr_nfsd_uaf", 1764690000}, ""},
      {"6.1.0-56-amd64", "6.1.192-2", KernelOutcome::built,
       FixRecordBundle{"6.1.0-56-amd64.nrp", std::string(64, 'b'), "0a1b2d", "nr_nfsd_uaf", 1764690000}, ""},
      {"6.1.0-57-amd64", "6.1.192-3", KernelOutcome::already_fixed, std::nullopt, "its source already contains the fix"},
      {"6.1.0-48-amd64", "6.1.172-1", KernelOutcome::unavailable, std::nullopt, "the archive serves only its image"},
  };
  r.builder_version = "noreboot-build 0.1.0";
  r.created = "2026-12-02T15:00:00Z";
  return r;
}

std::string with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(serialize_fix_record(sample()));
  edit(j);
  return j.dump();
}

std::string error_of(const std::string& text) {
  auto r = parse_fix_record(text);
  EXPECT_FALSE(r.ok());
  return r ? "" : r.error().message();
}

TEST(FixRecord, RoundTripIsExactAndDeterministic) {
  std::string text = serialize_fix_record(sample());
  auto parsed = parse_fix_record(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, sample());
  EXPECT_EQ(serialize_fix_record(*parsed), text);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_LT(text.find("\"format_version\""), text.find("\"fixes\""));
  EXPECT_LT(text.find("\"fixes\""), text.find("\"kernels\""));
}

TEST(FixRecord, SignAndVerify) {
  auto key = SecretKey::generate();
  auto s = sign_fix_record(sample(), key);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->record, serialize_fix_record(sample()));
  EXPECT_EQ(s->signature.rfind("noreboot-ed25519-signature-v1 " + key.id() + " ", 0), 0u);  // manifest.sig's format
  TrustStore trust;
  trust.add(key.public_key());
  auto v = verify_fix_record(s->record, s->signature, trust);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(v->record, sample());
  EXPECT_EQ(v->signer.id, key.id());
}

TEST(FixRecord, UntrustedKeyIsRefused) {
  auto key = SecretKey::generate(), other = SecretKey::generate();
  auto s = sign_fix_record(sample(), key);
  ASSERT_TRUE(s.ok());
  TrustStore trust;
  trust.add(other.public_key());
  auto v = verify_fix_record(s->record, s->signature, trust);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Errc::signature);
  EXPECT_NE(v.error().message().find("not trusted"), std::string::npos) << v.error().message();
}

TEST(FixRecord, BadSignatureIsRefused) {
  auto key = SecretKey::generate(), other = SecretKey::generate();
  auto s = sign_fix_record(sample(), key);
  ASSERT_TRUE(s.ok());
  TrustStore trust;
  trust.add(key.public_key());
  // A signature by another key, relabelled with the trusted key's id.
  std::string forged = format_signature({key.id(), sign_message(other, as_bytes(s->record)).bytes});
  auto v = verify_fix_record(s->record, forged, trust);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Errc::signature);
  EXPECT_NE(v.error().message().find("modified after signing"), std::string::npos) << v.error().message();
  // Not a signature line at all.
  auto garbage = verify_fix_record(s->record, "hello\n", trust);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code(), Errc::invalid_input);
  EXPECT_NE(garbage.error().message().find("fix.sig"), std::string::npos);
}

TEST(FixRecord, TamperedBytesAreRefused) {
  auto key = SecretKey::generate();
  auto s = sign_fix_record(sample(), key);
  ASSERT_TRUE(s.ok());
  TrustStore trust;
  trust.add(key.public_key());
  // An "already fixed" claim turned into something else, a byte changed, a space added:
  // each is a modified record, even when the result is still valid JSON.
  std::string edited = s->record;
  edited.replace(edited.find("already_fixed"), 13, "does_not_appl");
  for (std::string t : {edited, s->record + " ", std::string(s->record).replace(10, 1, "X")}) {
    auto v = verify_fix_record(t, s->signature, trust);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code(), Errc::signature) << v.error().message();
  }
}

TEST(FixRecord, DuplicateKernelIsRefused) {
  auto r = sample();
  r.kernels.push_back(r.kernels[0]);
  r.kernels.back().bundle->sha256 = std::string(64, 'e');
  auto st = validate_fix_record(r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("'kernels[4].release' '6.1.0-55-amd64' appears twice"), std::string::npos)
      << st.error().message();
  EXPECT_FALSE(sign_fix_record(r, SecretKey::generate()).ok());  // nothing is signed
  EXPECT_NE(error_of(with([](auto& j) { j["kernels"].push_back(j["kernels"][1]); })).find("appears twice"),
            std::string::npos);
}

TEST(FixRecord, FieldErrorsNameTheField) {
  struct Case { std::function<void(nlohmann::json&)> edit; std::string expect; };
  std::vector<Case> cases = {
      {[](auto& j) { j["format_version"] = 2; }, "'format_version' is 2"},
      {[](auto& j) { j.erase("fixes"); }, "'fixes' is missing"},
      {[](auto& j) { j["fixes"] = nlohmann::json::array(); }, "'fixes' must name at least one fix"},
      {[](auto& j) { j["fixes"][0]["id"] = "CVE 1/2"; }, "'fixes[0].id'"},
      {[](auto& j) { j["fixes"][1]["id"] = "CVE-2026-99362"; }, "'fixes[1].id' 'CVE-2026-99362' appears twice"},
      {[](auto& j) { j["patch"]["sha256"] = "abc"; }, "'patch.sha256' must be 64 lowercase hex"},
      {[](auto& j) { j["patch"].erase("name"); }, "'patch.name' is missing"},
      {[](auto& j) { j["kernels"] = nlohmann::json::array(); }, "'kernels' must name at least one kernel"},
      {[](auto& j) { j["kernels"][2]["outcome"] = "fine"; }, "'kernels[2].outcome' 'fine' is not one of"},
      {[](auto& j) { j["kernels"][0].erase("bundle"); }, "'kernels[0].bundle' is missing"},
      {[](auto& j) { j["kernels"][2]["bundle"] = j["kernels"][0]["bundle"]; }, "'kernels[2].bundle' is given but the outcome is already_fixed"},
      {[](auto& j) { j["kernels"][1]["bundle"]["sha256"] = std::string(64, 'A'); }, "'kernels[1].bundle.sha256'"},
      {[](auto& j) { j["kernels"][1]["bundle"]["build_id"] = "xyz"; }, "'kernels[1].bundle.build_id'"},
      {[](auto& j) { j["kernels"][1]["bundle"]["file"] = "../x.nrp"; }, "'kernels[1].bundle.file'"},
      {[](auto& j) { j["kernels"][1]["bundle"]["module"] = "nr-x"; }, "'kernels[1].bundle.module'"},
      {[](auto& j) { j["kernels"][1]["bundle"]["sequence"] = 0; }, "'kernels[1].bundle.sequence' must be at least 1"},
      {[](auto& j) { j["kernels"][1]["bundle"]["sequence"] = -1; }, "'kernels[1].bundle.sequence' must be a non-negative"},
      {[](auto& j) { j["kernels"][3]["version"] = ""; }, "'kernels[3].version' must not be empty"},
      {[](auto& j) { j["kernels"][3]["reason"] = 5; }, "'kernels[3].reason' must be a string"},
      {[](auto& j) { j["created"] = "yesterday"; }, "'created'"},
      {[](auto& j) { j.erase("builder_version"); }, "'builder_version' is missing"},
  };
  for (const auto& c : cases) {
    std::string msg = error_of(with(c.edit));
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << msg;
    EXPECT_EQ(msg.rfind("fix.json: ", 0), 0u) << msg;
  }
  EXPECT_NE(error_of("{\"format_version\": 1, \"format_version\": 1}").find("appears twice in one object"),
            std::string::npos);
  EXPECT_NE(error_of("[1]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  // Unknown fields are ignored (a later format may add optional ones).
  EXPECT_TRUE(parse_fix_record(with([](auto& j) { j["kernels"][0]["seconds"] = 95.3; j["later"] = true; })).ok());
}

TEST(FixRecord, WritesBothFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("nr-fixrec-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto key = SecretKey::generate();
  auto s = sign_fix_record(sample(), key);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(write_fix_record(dir, *s).ok());
  auto rec = read_file(dir / "fix.json", kFixRecordMaxBytes);
  auto sig = read_file(dir / "fix.sig", 4096);
  ASSERT_TRUE(rec.ok() && sig.ok());
  TrustStore trust;
  trust.add(key.public_key());
  EXPECT_TRUE(verify_fix_record(as_chars(*rec), as_chars(*sig), trust).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace noreboot
