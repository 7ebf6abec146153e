// BodyFields: every wrong field is a 400-class error whose message names the field and its rule.
#include "server/body_fields.h"

#include <gtest/gtest.h>

namespace noreboot::server {
namespace {

using Need = BodyFields::Need;

BodyFields parse(const std::string& text) {
  auto b = BodyFields::parse(text);
  EXPECT_TRUE(b.ok()) << text;
  return std::move(b).value();
}

TEST(BodyFields, BodyMustBeAnObject) {
  auto bad = BodyFields::parse("{nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::invalid_input);
  EXPECT_EQ(bad.error().message(), "body: not valid JSON");
  EXPECT_EQ(BodyFields::parse("[1]").error().message(), "body: must be a JSON object");
  EXPECT_EQ(BodyFields::parse("[1]", "{\"record\"}").error().message(), "body: must be a JSON object {\"record\"}");
}

TEST(BodyFields, StringsRequiredOptionalAndBounded) {
  BodyFields b = parse(R"({"name": "web", "long": "abcdef", "num": 3, "nothing": null})");
  EXPECT_EQ(*b.string("name", Need::required, "r").value(), "web");
  EXPECT_FALSE(b.string("absent", Need::optional, "r").value().has_value());
  EXPECT_FALSE(b.string("nothing", Need::optional, "r").value().has_value());
  auto missing = b.string("absent", Need::required, "required, a name");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "absent: required, a name");
  EXPECT_EQ(b.string("nothing", Need::optional_not_null, "must be a string").error().message(),
            "nothing: must be a string");
  EXPECT_EQ(b.string("num", Need::optional, "must be a string").error().message(), "num: must be a string");
  EXPECT_EQ(b.string("long", Need::optional, "at most 5 bytes", 5).error().message(), "long: at most 5 bytes");
  EXPECT_EQ(b.string("name", Need::optional, "not web", 64, [](std::string_view s) { return s != "web"; })
                .error()
                .message(),
            "name: not web");
}

TEST(BodyFields, IntegersWithBounds) {
  BodyFields b = parse(R"({"ttl": 60, "neg": -1, "big": 18446744073709551615, "text": "1", "real": 1.5})");
  EXPECT_EQ(*b.integer("ttl", Need::optional, "r", 1, 100).value(), 60);
  EXPECT_EQ(b.integer("ttl", Need::optional, "must be 1..50", 1, 50).error().message(), "ttl: must be 1..50");
  EXPECT_FALSE(b.integer("neg", Need::optional, "non-negative", 0).ok());
  EXPECT_FALSE(b.integer("big", Need::optional, "a time").ok());
  EXPECT_FALSE(b.integer("text", Need::optional, "an integer").ok());
  EXPECT_FALSE(b.integer("real", Need::optional, "an integer").ok());
  EXPECT_FALSE(b.integer("absent", Need::optional, "r").value().has_value());
}

TEST(BodyFields, ArraysOfStrings) {
  BodyFields b = parse(R"({"tags": ["a", "b"], "mixed": ["a", 1], "many": ["a", "b", "c"], "one": "a"})");
  EXPECT_EQ(*b.strings("tags", Need::optional, "an array", 2, "each a name").value(),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(b.strings("mixed", Need::optional, "an array", 5, "each a name").error().message(), "mixed: each a name");
  EXPECT_EQ(b.strings("many", Need::optional, "at most 2", 2, "each").error().message(), "many: at most 2");
  EXPECT_EQ(b.strings("one", Need::optional, "an array", 2, "each").error().message(), "one: an array");
  EXPECT_EQ(b.strings("tags", Need::optional, "r", 5, "each tag is a B", [](std::string_view s) { return s == "b"; })
                .error()
                .message(),
            "tags: each tag is a B");
}

}  // namespace
}  // namespace noreboot::server
