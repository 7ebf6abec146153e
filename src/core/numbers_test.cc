// parse_decimal: digits only, bounded length, never a sign, space or prefix.
#include "core/numbers.h"

#include <gtest/gtest.h>

#include <limits>

namespace noreboot {
namespace {

TEST(ParseDecimal, ReadsPlainDigits) {
  EXPECT_EQ(parse_decimal("0"), 0u);
  EXPECT_EQ(parse_decimal("300"), 300u);
  EXPECT_EQ(parse_decimal("007"), 7u);
  EXPECT_EQ(parse_decimal("18446744073709551"), 18446744073709551u);
  EXPECT_EQ(parse_decimal("9999999999999999999"), 9999999999999999999u);  // 19 digits: the most allowed
}

TEST(ParseDecimal, RefusesEverythingElse) {
  for (const char* s : {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "12a", "\xd9\xa3"})
    EXPECT_FALSE(parse_decimal(s)) << s;
  EXPECT_FALSE(parse_decimal("12345678901234567890"));  // 20 digits could overflow
}

TEST(ParseSignedDecimal, ReadsAnOptionalMinus) {
  EXPECT_EQ(parse_signed_decimal("0"), 0);
  EXPECT_EQ(parse_signed_decimal("-42"), -42);
  EXPECT_EQ(parse_signed_decimal("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_signed_decimal("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  for (const char* s : {"", "-", "+1", "--1", " -1", "-1 ", "1.5", "-0x1", "9223372036854775808", "-9223372036854775809"})
    EXPECT_FALSE(parse_signed_decimal(s)) << s;
}

TEST(ParseDecimal, HonoursMaxDigits) {
  EXPECT_EQ(parse_decimal("123456", 6), 123456u);
  EXPECT_FALSE(parse_decimal("1234567", 6));
  EXPECT_FALSE(parse_decimal("1", 0));
}

}  // namespace
}  // namespace noreboot
