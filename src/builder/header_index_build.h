// Building the header index (header_index.h) of one kernel from its -dbg package, once.
//
// Problem: the -dbg package is 858 MB of xz (5.6 GB unpacked: vmlinux and 4,023 debug .ko
// files). Unpacking it to disk and parsing every DIE of every unit is what made an earlier
// prototype take ~13 minutes.
//
// Approach: stream it. `dpkg-deb --fsys-tarfile` decompresses (one process) while this one
// reads the tar stream: each .ko (and vmlinux) goes into an anonymous memory file, libdwfl
// opens it (it applies the .ko's relocations to the DWARF sections) and only what the index
// needs is read: per compile unit its top-level DIEs (every C function is a direct child of
// its unit; children are skipped through DW_AT_sibling) and its line table. Nothing is
// written to disk but the index itself: KDIR/header-index, written to a temporary name and
// renamed (atomic), under KDIR/header-index.lock (one builder builds it; the others wait and
// reuse it). Progress goes to the log every few hundred files.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>

#include "builder/profile.h"
#include "core/result.h"

namespace noreboot::builder {

struct IndexStats {
  size_t objects = 0;   // vmlinux + .ko files read
  size_t units = 0, functions = 0, runs = 0;
  double seconds = 0;
  std::uintmax_t bytes = 0;
};

// Writes the index of every ELF file in the -dbg package DBG_DEB to OUT.
Result<IndexStats> index_dbg_package(const std::filesystem::path& dbg_deb, std::ostream& out);

// Writes the index of one ELF file (vmlinux or a debug .ko) to OUT; OWNER names it.
Result<IndexStats> index_elf_file(const std::filesystem::path& elf, const std::string& owner, std::ostream& out);

// KDIR/header-index of PROFILE's kernel, built from its -dbg package if missing.
Result<std::filesystem::path> ensure_header_index(const KernelProfile& profile);

}  // namespace noreboot::builder
