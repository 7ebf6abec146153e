// Byte buffers and the encodings the bundle format uses: hex, base64 and SHA-256.
//
// Everything a bundle stores as text (hashes, key material, signatures) goes through these few
// functions, so there is exactly one spelling of each: lowercase hex, standard base64 with
// padding (RFC 4648 section 4). They are thin wrappers over libsodium, which is already the
// project's crypto library; decoding is strict (no whitespace, no missing padding) and errors
// say which field was bad when the caller adds context.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using Sha256 = std::array<std::uint8_t, 32>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Initialises libsodium once (thread-safe); every function here calls it.
void ensure_sodium();

// The one hex alphabet: every encoder and decoder in the project goes through these.
// 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else.
int hex_digit_value(char c);
// Lowercase hex of the bytes ("\x1f" -> "1f").
std::string to_hex(ByteView bytes);
// Lowercase or uppercase hex, even length. Error names nothing: callers add the field name.
Result<Bytes> from_hex(std::string_view text);
// Only '0'-'9' and 'a'-'f' (the spelling of every hash, id and build ID noreboot prints).
bool is_lower_hex(std::string_view text);
// The same with an exact length: is_lower_hex(s, 64) is "a SHA-256 as text".
bool is_lower_hex(std::string_view text, std::size_t length);
// `bytes` random bytes from the system RNG, as lowercase hex (ids, session secrets).
std::string random_hex(std::size_t bytes);

std::string base64_encode(ByteView bytes);
Result<Bytes> base64_decode(std::string_view text);

Sha256 sha256(ByteView bytes);
std::string sha256_hex(ByteView bytes);
inline std::string sha256_hex(std::string_view text) { return sha256_hex(as_bytes(text)); }

// Compares in time independent of where the first difference is.
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace noreboot
