// Fuzz target: arbitrary bytes through the ELF reader, and whatever it accepts through the
// writer and the reader again (a write of a read object must always parse).
#include <cstdint>
#include <cstdlib>

#include "elf/object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto obj = noreboot::elf::read_object({data, size}, "fuzz");
  if (!obj) return 0;
  auto bytes = noreboot::elf::write_object(*obj);
  if (!bytes) return 0;  // e.g. no .shstrtab named so: a refusal, not a crash
  auto again = noreboot::elf::read_object(*bytes, "fuzz-rewritten");
  if (!again) std::abort();
  return 0;
}
