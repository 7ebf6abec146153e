// Reading numbers from text that came from outside: query strings, headers, /proc and /sys.
//
// One strict rule instead of a lambda per caller: only ASCII digits, no sign, no spaces, no
// "0x", at least one digit and at most max_digits of them (which also bounds the value, so no
// overflow can happen: 19 decimal digits always fit in 64 bits). std::stoll, by contrast,
// accepts leading spaces and a sign, and throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace noreboot {

// '0'..'9' only, whatever the locale (std::isdigit takes an int and the C locale's word for it).
inline constexpr bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// A whole decimal number of 1..max_digits digits (max_digits at most 19); nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::size_t max_digits = 19);
// The same with an optional leading '-' (never '+'), within the range of int64_t.
std::optional<std::int64_t> parse_signed_decimal(std::string_view s, std::size_t max_digits = 19);

}  // namespace noreboot
