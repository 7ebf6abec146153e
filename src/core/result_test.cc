#include "core/result.h"

#include <gtest/gtest.h>

#include "core/log.h"

namespace noreboot {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Error(Errc::invalid_argument, "must be positive, got " + std::to_string(x));
  return x;
}

Result<int> doubled(int x) {
  NR_TRY(int v, parse_positive(x));
  return v * 2;
}

Status check(int x) {
  NR_TRY_STATUS(parse_positive(x));
  return ok_status();
}

TEST(Result, CarriesValueOrError) {
  auto good = doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);

  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
  EXPECT_EQ(bad.error().message(), "must be positive, got -1");
}

TEST(Result, StatusPropagatesAndContextPrefixes) {
  EXPECT_TRUE(check(1).ok());
  auto st = check(0);
  ASSERT_FALSE(st.ok());
  Error e = st.error().context("sequence");
  EXPECT_EQ(e.message(), "sequence: must be positive, got 0");
  EXPECT_EQ(errc_name(e.code()), "invalid_argument");
}

TEST(Log, FormatsPlaceholdersInOrderAndHonoursLevel) {
  EXPECT_EQ(log::format("{} of {} ({}%)", 3, 4, 75.5), "3 of 4 (75.5%)");
  EXPECT_EQ(log::format("no placeholders", 1), "no placeholders");
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  log::configure({.level = log::Level::warn, .format = log::Format::json, .component = "t"});
  log::info("dropped");
  log::warn("kept {}", 1);
  log::set_sink(nullptr);
  log::configure({});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"msg\":\"kept 1\""), std::string::npos);
  EXPECT_NE(lines[0].find("\"component\":\"t\""), std::string::npos);
}

// A message carrying a newline (a hostname chosen by a client) stays one line in the text log.
TEST(Log, TextFormatEscapesControlCharacters) {
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  log::configure({.level = log::Level::info, .format = log::Format::text, .component = "t"});
  log::info("enrolled host {} ({})", "h_1", "web-1\nerror: forged line\r\x1b[2J\x7f\tend");
  log::set_sink(nullptr);
  log::configure({});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "enrolled host h_1 (web-1\\nerror: forged line\\r\\x1b[2J\\x7f\tend)");
}

}  // namespace
}  // namespace noreboot
