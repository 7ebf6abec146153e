// Fuzz target: the bundle reader and verifier on arbitrary bytes (libFuzzer entry point).
// Every input must end in a value or an error, never a crash, leak or out-of-bounds read; a
// bundle that reads must also verify deterministically against the fixed fuzz key.
#include <cstdint>
#include <cstdlib>

#include "core/bundle.h"
#include "core/fuzz_key.h"
#include "core/kernel_identity.h"
#include "core/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace noreboot;
  static const TrustStore trust = [] {
    TrustStore t;
    t.add(fuzzing::fuzz_key().public_key());
    return t;
  }();
  ByteView input(data, size);
  BundleLimits limits;
  limits.module_max = 1 << 20;  // keep iterations fast
  auto contents = read_bundle_bytes(input, limits);
  if (contents) {
    auto verified = verify_bundle(*contents, trust);
    // A verified bundle's manifest must survive a serialize/parse round trip unchanged.
    if (verified) {
      auto again = parse_manifest(serialize_manifest(contents->manifest));
      if (!again || !(*again == contents->manifest)) std::abort();
    }
  }
  // The same bytes through the lower layers on their own.
  (void)read_tar(input);
  (void)build_id_from_notes(input);
  if (size < (4u << 20)) (void)kernel_identity_from_image(input, "fuzz");
  return 0;
}
