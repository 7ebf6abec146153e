// The fixed key shared by the bundle fuzz target and its seed generator, so that seeds carry a
// valid signature and the fuzzer reaches the checks behind signature verification.
// A test-only key: its seed is public, never trust it anywhere.
#pragma once

#include <array>

#include "core/keys.h"

namespace noreboot::fuzzing {

inline SecretKey fuzz_key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x42);
  return std::move(SecretKey::from_seed(seed)).value();
}

}  // namespace noreboot::fuzzing
