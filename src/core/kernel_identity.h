// Which kernel exactly: release, /proc/version text, GNU build ID and architecture.
//
// Problem: a livepatch module is only safe on the exact kernel build it was made for. The
// release string (6.1.0-56-amd64) is not enough (Debian rebuilds keep it), the /proc/version
// text carries the package version and date, and the GNU build ID is a hash of the image
// itself. The agent reads them from the running kernel; the builder reads the same from a
// kernel image file, without booting it.
// Approach:
//  - running kernel: <root>/proc/sys/kernel/osrelease, <root>/proc/version and the raw ELF note
//    stream in <root>/sys/kernel/notes (Elf64_Nhdr + name + desc, each padded to 4 bytes); the
//    build ID is the NT_GNU_BUILD_ID note of owner "GNU". Arch from <root>/proc/sys/kernel/arch.
//    `root` lets tests point at a fake tree.
//  - image file: an ELF vmlinux (its PT_NOTE segments, else SHT_NOTE sections), or an x86 bzImage
//    whose payload (xz, as Debian builds it) is decompressed with liblzma to the same ELF. The
//    version is the kernel's `linux_banner` string found in the image ("Linux version <release>
//    (...) ... \n"); /proc/version prints the same text, so the identity compares equal.
// Trade-off: only xz-compressed bzImages are read; other payload formats are named in the error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace noreboot {

struct KernelIdentity {
  std::string release;   // uname -r
  std::string version;   // /proc/version without the trailing newline
  std::string build_id;  // lowercase hex of the NT_GNU_BUILD_ID note
  std::string arch;      // uname -m, e.g. x86_64

  bool operator==(const KernelIdentity&) const = default;
};

// One line per differing field, e.g. "build ID differs: bundle 3f2a..., running 9c01...".
// `expected_label`/`actual_label` name the two sides. Empty when equal.
std::vector<std::string> identity_differences(const KernelIdentity& expected,
                                              const KernelIdentity& actual,
                                              std::string_view expected_label = "bundle",
                                              std::string_view actual_label = "running");

// Parses a raw ELF note stream (as in /sys/kernel/notes or a PT_NOTE segment) and returns the
// GNU build ID in hex, or Errc::not_found when the stream has no such note.
Result<std::string> build_id_from_notes(ByteView notes);

Result<KernelIdentity> read_running_kernel(const std::filesystem::path& root = "/");

// Reads a vmlinux ELF or an x86 bzImage (vmlinuz).
Result<KernelIdentity> read_kernel_image(const std::filesystem::path& path);
// The same on bytes already in memory; `source` names them in errors.
Result<KernelIdentity> kernel_identity_from_image(ByteView image, std::string_view source);

}  // namespace noreboot
