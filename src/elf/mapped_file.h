// A whole file mapped read-only into memory, for the ELF reader.
//
// The reader maps an object file (mmap, PROT_READ, MAP_PRIVATE) instead of reading it into a
// buffer: nothing is zero-filled or copied up front, the kernel brings in only the pages that
// are touched (a kernel object's debug sections, most of its bytes, are never read by the
// differ), and the page cache already holds a freshly compiled object. Section contents are
// views into the mapping (SectionBytes), which holds it through a shared pointer: the mapping
// lives exactly as long as the last section that views it, and is unmapped then.
//
// Lifetime rule for callers: the file must not be truncated or rewritten in place while an
// object read from it is alive. The mapping is private and read-only, so noreboot never writes
// to it, but a shrinking file would make a read of a lost page fault (SIGBUS), as with any
// mmap-based reader (libelf's ELF_C_READ_MMAP, which kpatch uses, has the same rule). Every
// writer in noreboot replaces files by rename(2), which leaves an open mapping intact: the old
// inode lives on until it is unmapped. An empty file is "mapped" as an empty span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"

namespace noreboot::elf {

class MappedFile {
 public:
  // Maps `path` read-only; errors name the path and what failed.
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {static_cast<const uint8_t*>(addr_), size_}; }

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  void* addr_ = nullptr;  // nullptr for an empty file
  size_t size_ = 0;
};

}  // namespace noreboot::elf
