#include "core/manifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace noreboot {
namespace {

Manifest sample() {
  Manifest m;
  m.name = "nr_cmdline";
  m.sequence = 3;
  m.kernel = {"6.1.0-56-amd64", "Linux version 6.1.0-56-amd64 (x) #1 SMP", "0a1b2c", "x86_64"};
  m.module = {"nr_cmdline.ko", std::string(64, 'a'), 1234, "6.1.0-56-amd64 SMP preempt mod_unload modversions "};
  m.fixes = {{"CVE-2024-1234", "fix /proc/cmdline"}, {"NR-7", ""}};
  m.builder_version = "0.1.0";
  m.created = "2026-11-23T00:15:00Z";
  return m;
}

std::string with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(serialize_manifest(sample()));
  edit(j);
  return j.dump();
}

std::string error_of(const std::string& text) {
  auto r = parse_manifest(text);
  EXPECT_FALSE(r.ok());
  return r ? "" : r.error().message();
}

TEST(Manifest, RoundTripIsExactAndDeterministic) {
  std::string text = serialize_manifest(sample());
  auto parsed = parse_manifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, sample());
  EXPECT_EQ(serialize_manifest(*parsed), text);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_LT(text.find("\"format_version\""), text.find("\"name\""));  // fixed field order
}

TEST(Manifest, SourcesRoundTripAndAreOptional) {
  Manifest m = sample();
  m.sources = {{"ext4-mballoc.patch", "--- a/fs/ext4/mballoc.c\n+++ b/fs/ext4/mballoc.c\n@@ -1 +1 @@\n-a\n+b\n"},
               {"nfsd.patch", "--- a/x\n+++ b/x\n"}};
  std::string text = serialize_manifest(m);
  auto parsed = parse_manifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->sources, m.sources);
  EXPECT_EQ(serialize_manifest(*parsed), text);
  // A manifest without sources (older builders) has none, and writes none.
  EXPECT_EQ(serialize_manifest(sample()).find("\"sources\""), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["sources"] = "x"; })).find("'sources' must be an array"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["sources"] = {{{"name", "a.patch"}}}; })).find("'sources[0].patch'"),
            std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["sources"] = {{{"name", ""}, {"patch", "x"}}}; })).find("'sources[0].name'"),
            std::string::npos);
}

TEST(Manifest, MissingFieldIsNamed) {
  EXPECT_NE(error_of(with([](auto& j) { j["kernel"].erase("build_id"); })).find("'kernel.build_id' is missing"),
            std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j.erase("sequence"); })).find("'sequence' is missing"), std::string::npos);
}

TEST(Manifest, WrongTypesAreNamed) {
  EXPECT_NE(error_of(with([](auto& j) { j["sequence"] = -1; })).find("'sequence' must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["sequence"] = "3"; })).find("'sequence'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["fixes"][1] = 5; })).find("'fixes[1]'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["fixes"][0]["id"] = ""; })).find("'fixes[0].id'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["module"] = "x"; })).find("'module' must be an object"), std::string::npos);
}

TEST(Manifest, ValuesAreValidated) {
  EXPECT_NE(error_of(with([](auto& j) { j["name"] = "../evil"; })).find("'name'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["module"]["file"] = "other.ko"; })).find("'module.file'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["module"]["sha256"] = "ABC"; })).find("'module.sha256'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["kernel"]["build_id"] = "xyz"; })).find("'kernel.build_id'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["created"] = "yesterday"; })).find("'created'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["sequence"] = 0; })).find("'sequence'"), std::string::npos);
  EXPECT_NE(error_of(with([](auto& j) { j["format_version"] = 2; })).find("upgrade noreboot"), std::string::npos);
}

TEST(Manifest, UnknownFieldsAreIgnored) {
  auto r = parse_manifest(with([](auto& j) { j["future_option"] = true; }));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, sample());
}

TEST(Manifest, DuplicateKeysAreRefused) {
  std::string text = serialize_manifest(sample());
  std::string dup = text;
  dup.insert(text.find("\"name\""), "\"sequence\": 99,\n  ");
  EXPECT_NE(error_of(dup).find("key 'sequence' appears twice"), std::string::npos);
  std::string nested = text;
  nested.insert(text.find("\"release\""), "\"arch\": \"arm64\", ");
  EXPECT_NE(error_of(nested).find("key 'arch' appears twice"), std::string::npos);
  // The same key in different objects is fine ("id" in two fixes).
  EXPECT_TRUE(parse_manifest(text).ok());
}

TEST(Manifest, NotJson) {
  EXPECT_NE(error_of("{\"name\": ").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("must be a JSON object"), std::string::npos);
}

TEST(Manifest, ModuleNames) {
  EXPECT_TRUE(valid_module_name("nr_fix_1"));
  EXPECT_FALSE(valid_module_name(""));
  EXPECT_FALSE(valid_module_name("a-b"));
  EXPECT_FALSE(valid_module_name("a/b"));
  EXPECT_FALSE(valid_module_name(std::string(56, 'a')));
}

TEST(Manifest, Rfc3339) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339_utc(1700000000), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace noreboot
