// Kernel profiles: everything a build needs about one target kernel, prepared once and cached.
//
// Problem: compiling a touched file so that its code matches the shipped kernel byte for byte
// needs the shipped source (Debian's linux-source, with Debian's patches), the exact build
// config (the .config of linux-headers-ABI, not /boot/config-*), `make prepare` having run
// with the same compiler (CC=gcc-12) and Module.symvers. Doing that takes ~35-60 s, so it is
// done once per ABI and cached in $NOREBOOT_CACHE/kernels/<ABI>/tree.
//
// Exact source: Debian serves many kernels of a release at once, and each is built from its
// own linux-source version (the image package's Debian version, e.g. 6.1.0-56-amd64 is
// 6.1.192-2). kernel-fetch downloads every package at that version; the tree records it in
// tree.done ("ABI VERSION"), and a tree whose recorded version is not the image's (or that
// predates the record) is removed and prepared again: a tree from a neighbour's source would
// compile code the host does not run.
//
// Approach: `scripts/kernel-fetch --source` downloads and unpacks the packages (its own lock);
// then, under a lock on <kdir>/.tree.lock: unpack the source tarball, copy the config, set
// CONFIG_MODULE_SIG_KEY, `make olddefconfig` (and check it changed nothing: a change means the
// config and the source disagree, and nothing we build would match), `make prepare
// modules_prepare`, one warm-up compile (builds objtool and resolve_btfids), copy
// Module.symvers, then write <kdir>/tree.done.
//
// Trade-off, measured: Kbuild bakes the tree's absolute path into the host tools it builds
// (tools/objtool, tools/bpf/resolve_btfids); renaming a prepared tree makes the next compile
// rebuild them (15 s). So the tree is built in place at its final name, and the marker
// tree.done, written last (after an fsync of the tree's key files), is what makes it valid.
// A tree without the marker is a killed or failed run: the next prepare removes it and starts
// again. The tree is never modified by a build afterwards except for the objects Kbuild
// compiles into it (originals only: patched files are compiled elsewhere, see compile.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/steps.h"
#include "core/result.h"

namespace noreboot::builder {

struct KernelProfile {
  std::string abi;                    // KERNELRELEASE, e.g. 6.1.0-56-amd64
  std::string version;                // Debian version of its packages and source, e.g. 6.1.192-2 (empty in --tree mode)
  std::filesystem::path tree;         // prepared source tree (compiles happen here)
  std::string tree_release;           // the tree's own KERNELRELEASE when it is not `abi` (--tree
                                      // with --kernel debian:ABI); empty: abi
  std::filesystem::path kdir;         // cache folder of this kernel (empty in --tree mode)
  std::filesystem::path headers;      // linux-headers-ABI (empty in --tree mode)
  std::filesystem::path vmlinuz;      // the shipped image (empty if unknown)
  std::filesystem::path vmlinux;      // decompressed ELF of the image (empty if unknown)
  std::filesystem::path moddir;       // lib/modules/ABI of the image (empty if unknown)
  std::string cc = "gcc-12";          // the compiler the kernel was built with
  bool from_debian = false;
};

struct PrepareOptions {
  std::filesystem::path kernel_fetch; // scripts/kernel-fetch (see find_kernel_fetch)
  int jobs = 2;
  StepClock* clock = nullptr;         // where step times go (required)
};

// The flags every compile of the builder uses (also in the recorded .cmd files).
inline constexpr const char* kKcflags = "-ffunction-sections -fdata-sections";

// `make CC=.. KERNELRELEASE=.. KCFLAGS=.. -jN` to run in profile.tree.
std::vector<std::string> make_command(const KernelProfile& profile, int jobs);

// The member of a linux-source package that holds the source: ./usr/src/linux-source-6.1.tar.xz
Result<std::string> source_tarball_in(const std::filesystem::path& source_deb);

// The content of tree.done: "ABI VERSION\n".
std::string tree_stamp(const std::string& abi, const std::string& version);

// "debian:6.1.0-56-amd64" or "debian:current": fetch (if needed) and prepare (if needed).
Result<KernelProfile> prepare_debian(const std::string& spec, const PrepareOptions& opts);

// A tree the user already configured and prepared (make prepare done). KERNELRELEASE comes
// from include/config/kernel.release; the image from DIR/vmlinux if present.
Result<KernelProfile> profile_from_tree(const std::filesystem::path& dir);

// The kernel-fetch script: $NOREBOOT_KERNEL_FETCH, else the source tree's scripts/kernel-fetch,
// else one installed beside the binary (../lib/noreboot/kernel-fetch).
std::filesystem::path find_kernel_fetch();

// The folder holding <noreboot/livepatch.h> (the fix author's header; src/builder/include in the
// source tree, PREFIX/share/noreboot/include when installed); empty when neither exists.
std::filesystem::path find_author_include();

// The cache root: $NOREBOOT_CACHE or ~/.cache/noreboot.
std::filesystem::path cache_root();

}  // namespace noreboot::builder
