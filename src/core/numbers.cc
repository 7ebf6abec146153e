// Strict number parsing (see numbers.h).
#include "core/numbers.h"

#include <algorithm>
#include <limits>

namespace noreboot {

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::size_t max_digits) {
  max_digits = std::min<std::size_t>(max_digits, 19);
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::optional<std::int64_t> parse_signed_decimal(std::string_view s, std::size_t max_digits) {
  bool negative = !s.empty() && s.front() == '-';
  auto v = parse_decimal(negative ? s.substr(1) : s, max_digits);
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!v || *v > kMax + (negative ? 1 : 0)) return std::nullopt;
  return negative ? static_cast<std::int64_t>(0 - *v) : static_cast<std::int64_t>(*v);
}

}  // namespace noreboot
