// Reading and writing whole files safely.
//
// Problem: a bundle, a key or an extracted module must never be half-written (a crash or a full
// disk in the middle leaves the old file or nothing), and reading untrusted files must not let
// a huge file exhaust memory.
// Approach: read_file refuses files over a caller-given size before reading them. write_file
// writes into a temporary file in the destination folder (O_EXCL, final mode from the start so a
// secret is never briefly world-readable), fsyncs it, renames it into place (or, with
// `no_replace`, links it so an existing file is never overwritten even by a racing writer), and
// fsyncs the folder. On any error the temporary file is removed.
// Trade-off: one extra fsync per write; these files are written rarely.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot {

// Reads a regular file of at most max_size bytes. Errors name the path.
Result<Bytes> read_file(const std::filesystem::path& path, std::uint64_t max_size);

struct WriteOptions {
  mode_t mode = 0644;
  bool no_replace = false;  // refuse (Errc::conflict) if the destination exists
};

Status write_file(const std::filesystem::path& path, ByteView bytes, WriteOptions options = {});

}  // namespace noreboot
