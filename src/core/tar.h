// A small, strict POSIX ustar reader and writer: just what a bundle needs.
//
// Problem: a bundle is a tar archive so that people can look into it with `tar -tf`, but the
// agent reads it as root from the network. General tar readers (and libarchive) accept a zoo of
// formats, links, devices and path tricks that have caused many extraction bugs.
// Approach: the reader takes the whole archive as bytes and returns read-only views of its
// regular-file members. It checks every header before using it: the ustar magic, the header
// checksum, octal fields, that the member's data lies inside the archive, and it refuses every
// member that is not a plain file (directories, symlinks, hard links, devices, FIFOs, pax and
// GNU extension headers) and every path that is empty, absolute or contains a `..` component.
// After the end-of-archive marker only zero bytes may follow. Each refusal names the member and
// the problem. The writer emits ustar headers with fixed owner, mode and time so the same inputs
// give the same bytes.
// Trade-off: archives made with long names (pax headers) are refused; bundle member names are
// short, and refusing is safer than interpreting an extension.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot {

inline constexpr size_t kTarBlock = 512;

struct TarMember {
  std::string name;
  ByteView data;  // points into the archive passed to read_tar
};

struct TarReadLimits {
  size_t max_members = 16;
};

// Parses a ustar archive. Every error is Errc::invalid_input and names the member (or the
// offset, for a header whose name cannot be trusted yet).
Result<std::vector<TarMember>> read_tar(ByteView archive, TarReadLimits limits = {});

struct TarFile {
  std::string name;
  ByteView data;
};

// Writes regular-file members (mode 0644, uid/gid 0, mtime 0). Names must be 1-100 bytes of
// printable ASCII without `..` components or a leading '/'.
Result<Bytes> write_tar(const std::vector<TarFile>& files);

// Checks a member path: non-empty, relative, no `.`/`..` components, no empty components, no
// control characters. Returns a description of the problem, or an empty string when it is fine.
std::string tar_path_problem(std::string_view name);

}  // namespace noreboot
