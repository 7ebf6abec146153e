#include "core/kernel_identity.h"

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "core/test_kernel_cache.h"
#include "core/test_support.h"

namespace noreboot {
namespace {

using testing::TempDir;

void put32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// One note: Elf64_Nhdr + name (NUL-terminated, padded to 4) + desc (padded to 4).
void add_note(Bytes& out, const std::string& name, std::uint32_t type, const Bytes& desc) {
  put32(out, static_cast<std::uint32_t>(name.size() + 1));
  put32(out, static_cast<std::uint32_t>(desc.size()));
  put32(out, type);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  while (out.size() % 4) out.push_back(0);
  out.insert(out.end(), desc.begin(), desc.end());
  while (out.size() % 4) out.push_back(0);
}

Bytes kernel_like_notes() {
  Bytes notes;
  add_note(notes, "Xen", 6, {'l', 'i', 'n', 'u', 'x', 0});
  add_note(notes, "Linux", 3, {1, 2, 3});               // type 3 but not owner GNU
  add_note(notes, "GNU", 3, {0xde, 0xad, 0xbe, 0xef, 0x01});
  return notes;
}

TEST(KernelIdentity, BuildIdFromNoteStream) {
  auto id = build_id_from_notes(kernel_like_notes());
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(*id, "deadbeef01");
}

TEST(KernelIdentity, NoBuildIdNote) {
  Bytes notes;
  add_note(notes, "Xen", 6, {1, 2, 3, 4});
  auto id = build_id_from_notes(notes);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::not_found);
}

TEST(KernelIdentity, TruncatedNotesAreRefusedAtEveryLength) {
  Bytes notes = kernel_like_notes();
  for (size_t len = 1; len < notes.size(); ++len) {
    Bytes cut(notes.begin(), notes.begin() + static_cast<long>(len));
    auto id = build_id_from_notes(cut);  // must never read past `cut`
    if (id.ok()) { EXPECT_EQ(*id, "deadbeef01") << len; }
  }
  Bytes lying = kernel_like_notes();
  lying[4] = 0xff;  // descsz of the first note far beyond the end
  lying[5] = 0xff;
  EXPECT_FALSE(build_id_from_notes(lying).ok());
}

TEST(KernelIdentity, RunningKernelFromFakeRoot) {
  TempDir root;
  std::filesystem::create_directories(root / "proc/sys/kernel");
  std::filesystem::create_directories(root / "sys/kernel");
  auto put = [&](const std::string& p, const std::string& s) {
    ASSERT_TRUE(write_file(root / p, as_bytes(s)).ok());
  };
  put("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
  put("proc/version", "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP\n");
  put("proc/sys/kernel/arch", "x86_64\n");
  Bytes notes = kernel_like_notes();
  ASSERT_TRUE(write_file(root / "sys/kernel/notes", notes).ok());
  auto id = read_running_kernel(root.path());
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(id->release, "6.1.0-56-amd64");
  EXPECT_EQ(id->version, "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP");
  EXPECT_EQ(id->build_id, "deadbeef01");
  EXPECT_EQ(id->arch, "x86_64");

  std::filesystem::remove(root / "sys/kernel/notes");
  auto missing = read_running_kernel(root.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("sys/kernel/notes"), std::string::npos);
}

// Label `kernel` (core_test_kernel): real kernels, no skipping. The machine running the test
// has a real /sys/kernel/notes: whatever kernel it is, it must parse and give a non-empty build
// ID matching `uname -r`.
TEST(RealKernel, ThisMachinesRunningKernel) {
  auto id = read_running_kernel();
  ASSERT_TRUE(id.ok()) << id.error().message() << " (the kernel tier reads this machine's /proc and /sys)";
  EXPECT_FALSE(id->build_id.empty());
  EXPECT_NE(id->version.find(id->release), std::string::npos);
}

// A cached Debian kernel (core/test_kernel_cache.h): the shipped bzImage (xz payload) and its
// decompressed ELF give one identity, named by the ABI.
TEST(RealKernel, CachedImageAndItsElfAgree) {
  const std::string needs = "root/boot/vmlinuz-ABI";
  std::string abi = testing::cached_kernel_abi(needs);
  ASSERT_FALSE(abi.empty()) << testing::no_cached_kernel(needs);
  auto kdir = testing::kernel_cache_dir() / abi;
  auto image = read_kernel_image(kdir / "root/boot" / ("vmlinuz-" + abi));
  ASSERT_TRUE(image.ok()) << image.error().message();
  EXPECT_EQ(image->release, abi);
  EXPECT_EQ(image->build_id.size(), 40u) << image->build_id;
  EXPECT_NE(image->version.find("Linux version " + abi), std::string::npos) << image->version;
  if (std::filesystem::exists(kdir / "vmlinux")) {
    auto elf = read_kernel_image(kdir / "vmlinux");
    ASSERT_TRUE(elf.ok()) << elf.error().message();
    EXPECT_EQ(*elf, *image);
  }
}

TEST(KernelIdentity, Differences) {
  KernelIdentity a{"r", "v", "aa", "x86_64"}, b = a;
  EXPECT_TRUE(identity_differences(a, b).empty());
  b.build_id = "bb";
  b.release = "s";
  auto d = identity_differences(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "release differs: bundle 'r', running 's'");
  EXPECT_EQ(d[1], "build ID differs: bundle 'aa', running 'bb'");
}

TEST(KernelIdentity, ImageThatIsNeitherElfNorBzImage) {
  std::string junk(4096, 'j');
  auto r = kernel_identity_from_image(as_bytes(junk), "junk");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("neither an ELF vmlinux nor an x86 bzImage"), std::string::npos);
}

}  // namespace
}  // namespace noreboot
