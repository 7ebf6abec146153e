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
// Text helpers: read_text reads to EOF (also /proc, sysfs, a pipe) under the same size limit;
// write_text is write_file for a string. `durable = false` keeps the atomic rename but skips
// the fsyncs, for state rewritten many times a second that must survive a killed process but
// need not survive a machine crash (the agent's journal between steps).
// Trade-off: one extra fsync per write; these files are written rarely.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot {

// Reads a regular file of at most max_size bytes. Errors name the path; a missing file is
// Errc::not_found.
Result<Bytes> read_file(const std::filesystem::path& path, std::uint64_t max_size);

// The whole file as text, read to EOF (any readable file: /proc, sysfs, a pipe). Errc::not_found
// when it does not exist; Errc::invalid_input when it is longer than max_size.
inline constexpr std::uint64_t kTextMaxSize = std::uint64_t{1} << 30;
Result<std::string> read_text(const std::filesystem::path& path, std::uint64_t max_size = kTextMaxSize);

struct WriteOptions {
  mode_t mode = 0644;
  bool no_replace = false;  // refuse (Errc::conflict) if the destination exists
  bool durable = true;      // false: no fsync of the file and folder (the rename stays atomic)
};

Status write_file(const std::filesystem::path& path, ByteView bytes, WriteOptions options = {});
Status write_text(const std::filesystem::path& path, std::string_view text, WriteOptions options = {});

}  // namespace noreboot
