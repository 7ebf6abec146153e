#include "core/bytes.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace noreboot {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init returns 1 when already initialised, -1 only when the system RNG is unusable;
    // nothing in noreboot can work without it, so that is an invariant, not an input error.
    if (sodium_init() < 0) std::abort();
  });
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Bytes> from_hex(std::string_view text) {
  if (text.size() % 2 != 0)
    return Error(Errc::invalid_input, "hex text has an odd number of digits");
  Bytes out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_digit_value(text[i]), lo = hex_digit_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return Error(Errc::invalid_input, "'" + std::string(1, hi < 0 ? text[i] : text[i + 1]) +
                                            "' is not a hex digit");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

bool is_lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_lower_hex(std::string_view text, std::size_t length) { return text.size() == length && is_lower_hex(text); }

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  Bytes raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  return to_hex(raw);
}

std::string base64_encode(ByteView bytes) {
  ensure_sodium();
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the NUL libsodium writes
  return out;
}

Result<Bytes> base64_decode(std::string_view text) {
  ensure_sodium();
  Bytes out(text.size() / 4 * 3 + 3);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size())
    return Error(Errc::invalid_input, "not valid base64 (standard alphabet, with padding)");
  out.resize(len);
  return out;
}

Sha256 sha256(ByteView bytes) {
  ensure_sodium();
  Sha256 out{};
  crypto_hash_sha256(out.data(), bytes.data(), bytes.size());
  return out;
}

std::string sha256_hex(ByteView bytes) { return to_hex(sha256(bytes)); }

bool constant_time_equal(ByteView a, ByteView b) {
  ensure_sodium();
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace noreboot
