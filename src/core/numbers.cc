// Strict number parsing (see numbers.h).
#include "core/numbers.h"

#include <algorithm>

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

}  // namespace noreboot
