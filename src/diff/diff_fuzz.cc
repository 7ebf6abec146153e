// Fuzz target: whatever the ELF reader accepts must go through the differ without a crash.
// The object is diffed against itself and against its write-and-read-back copy: the index,
// correlation, fingerprints, special-section splitting and output all run on hostile but
// parseable input. (Equality is not asserted: a fuzzed file may hold two functions of one name,
// which the differ rightly treats as new.)
#include <cstdint>
#include <cstdlib>

#include "diff/differ.h"
#include "elf/object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto obj = noreboot::elf::read_object({data, size}, "fuzz");
  if (!obj) return 0;
  auto same = noreboot::diff::diff_objects(*obj, *obj);
  (void)same;
  auto bytes = noreboot::elf::write_object(*obj);
  if (!bytes) return 0;
  auto again = noreboot::elf::read_object(*bytes, "fuzz-rewritten");
  if (!again) std::abort();
  auto rt = noreboot::diff::diff_objects(*obj, *again);
  (void)rt;
  return 0;
}
