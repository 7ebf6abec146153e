// The typed TOML reader: values land in the struct, absent keys leave defaults alone, and every
// refusal names the file, the line, the full key and what was wanted.
#include "core/toml_config.h"

#include <gtest/gtest.h>

namespace noreboot::toml_config {
namespace {

Document parse_ok(std::string_view text) {
  auto d = Document::parse(text, "t.toml");
  EXPECT_TRUE(d.ok()) << d.error().message();
  return std::move(d).value();
}

std::string message(const Status& s) { return s.ok() ? "(ok)" : s.error().message(); }

TEST(TomlConfig, ReadsTypedValuesAndKeepsDefaultsForAbsentKeys) {
  auto d = parse_ok("name = \"web\"\nport = 8443\nratio = 0.5\nwhole = 2\non = true\nlist = [\"a\", \"b\"]\n");
  auto t = d.root();
  std::string name, absent = "default";
  std::int64_t port = 0;
  int small = 7;
  double ratio = 0, whole = 0;
  bool on = false;
  std::vector<std::string> list;
  EXPECT_TRUE(t.get("name", name).ok());
  EXPECT_TRUE(t.get("nothing", absent).ok());
  EXPECT_TRUE(t.get_integer("port", port, 1, 65535).ok());
  EXPECT_TRUE(t.get_integer("missing", small, 0, 10).ok());
  EXPECT_TRUE(t.get_number("ratio", ratio, 0).ok());
  EXPECT_TRUE(t.get_number("whole", whole, 0, 10).ok());
  EXPECT_TRUE(t.get("on", on).ok());
  EXPECT_TRUE(t.get("list", list).ok());
  EXPECT_EQ(name, "web");
  EXPECT_EQ(absent, "default");
  EXPECT_EQ(port, 8443);
  EXPECT_EQ(small, 7);
  EXPECT_EQ(ratio, 0.5);
  EXPECT_EQ(whole, 2.0);
  EXPECT_TRUE(on);
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(t.has("port"));
  EXPECT_FALSE(t.has("missing"));
}

TEST(TomlConfig, UnknownKeyIsNamedWithItsLineAndTheKnownKeys) {
  auto d = parse_ok("server = \"x\"\n\n[checkin]\ninterval = 5\n");
  EXPECT_EQ(message(d.root().only_keys({"server", "checkin"})), "(ok)");
  EXPECT_EQ(message(d.root().only_keys({"server"})), "t.toml: line 3: unknown key 'checkin' (known: server)");
  auto c = d.root().table("checkin");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ(message((*c)->only_keys({"interval_seconds", "jitter_seconds"})),
            "t.toml: line 4: unknown key 'checkin.interval' (known: interval_seconds, jitter_seconds)");
}

TEST(TomlConfig, WrongTypesNameTheExpectedType) {
  auto d = parse_ok("s = 5\nn = \"5\"\nf = 1.5\nb = \"yes\"\nl = \"a\"\nm = [\"a\", 2]\n");
  auto t = d.root();
  std::string s;
  std::int64_t n = 0;
  double f = 0;
  bool b = false;
  std::vector<std::string> l;
  EXPECT_EQ(message(t.get("s", s)), "t.toml: line 1: 's' must be a string");
  EXPECT_EQ(message(t.get_integer("n", n, 0, 10)), "t.toml: line 2: 'n' must be a whole number");
  EXPECT_EQ(message(t.get_integer("f", n, 0, 10)), "t.toml: line 3: 'f' must be a whole number");
  EXPECT_EQ(message(t.get_number("n", f, 0)), "t.toml: line 2: 'n' must be a number");
  EXPECT_EQ(message(t.get("b", b)), "t.toml: line 4: 'b' must be true or false");
  EXPECT_EQ(message(t.get("l", l)), "t.toml: line 5: 'l' must be an array of strings, e.g. [\"a\", \"b\"]");
  EXPECT_EQ(message(t.get("m", l)), "t.toml: line 6: 'm' must be an array of strings: entry 1 is not a string");
  EXPECT_TRUE(l.empty());  // nothing half-read
}

TEST(TomlConfig, RangesAreCheckedAndTheValueShown) {
  auto d = parse_ok("[limits]\nlow = -1\nhigh = 101\nslow = 0.05\n");
  auto lim = d.root().table("limits");
  ASSERT_TRUE(lim.ok() && lim->has_value());
  auto t = **lim;
  int v = 50;
  double x = 1;
  EXPECT_EQ(message(t.get_integer("low", v, 0, 100)), "t.toml: line 2: 'limits.low' must be between 0 and 100, got -1");
  EXPECT_EQ(message(t.get_integer("high", v, 0, 100)),
            "t.toml: line 3: 'limits.high' must be between 0 and 100, got 101");
  EXPECT_EQ(v, 50);
  EXPECT_EQ(message(t.get_number("slow", x, 0.1)), "t.toml: line 4: 'limits.slow' must be at least 0.1, got 0.05");
  EXPECT_EQ(message(t.get_number("low", x, 0, 10)), "t.toml: line 2: 'limits.low' must be between 0 and 10, got -1");
  EXPECT_EQ(x, 1);
}

TEST(TomlConfig, SubTablesAndArraysOfTables) {
  auto d = parse_ok("plain = 1\n[[stages]]\npercent = 10\n[[stages]]\npercent = 100\n");
  auto absent = d.root().table("nothing");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  EXPECT_EQ(d.root().table("plain").error().message(), "t.toml: line 1: 'plain' must be a table: [plain]");
  EXPECT_EQ(d.root().tables("plain").error().message(), "t.toml: line 1: 'plain' must be an array of tables: [[plain]]");
  auto stages = d.root().tables("stages");
  ASSERT_TRUE(stages.ok());
  ASSERT_EQ(stages->size(), 2u);
  int p = 0;
  EXPECT_EQ(message((*stages)[1].get_integer("percent", p, 1, 50)),
            "t.toml: line 5: 'stages[1].percent' must be between 1 and 50, got 100");
  EXPECT_EQ((*stages)[0].name("soak"), "stages[0].soak");
  EXPECT_EQ(message((*stages)[0].error("soak", "is missing")), "t.toml: line 2: 'stages[0].soak' is missing");
  EXPECT_TRUE(d.root().tables("nothing")->empty());
}

TEST(TomlConfig, SyntaxErrorNamesLineAndColumn) {
  auto d = Document::parse("a = 1\nb = \n", "bad.toml");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::invalid_input);
  EXPECT_EQ(d.error().message().rfind("bad.toml: line 2, column ", 0), 0u) << d.error().message();
}

TEST(TomlConfig, TablesStayValidWhenTheDocumentMoves) {
  auto d = parse_ok("[a]\nx = \"y\"\n");
  auto a = d.root().table("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  Document moved = std::move(d);
  std::string x;
  EXPECT_TRUE((*a)->get("x", x).ok());
  EXPECT_EQ(x, "y");
  EXPECT_EQ(moved.origin(), "t.toml");
}

TEST(TomlConfig, MissingFileIsNotFound) {
  auto d = Document::parse_file("/nonexistent/noreboot.toml");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::not_found);
}

}  // namespace
}  // namespace noreboot::toml_config
