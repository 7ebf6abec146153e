// Where the kernel's symbol knowledge comes from, built once per kernel and cached.
//
// vmlinux: the full symbol table exists only in linux-image-ABI-dbg. ensure_vmlinux_index()
// extracts just the debug vmlinux and System.map from that .deb (dpkg-deb | tar, ~50 s),
// indexes the symbol table (symbol_index.h), and keeps only the index and System.map in
// $KDIR/symbols/ (the 630 MB vmlinux is deleted). It runs under a flock on $KDIR/symbols.lock
// and builds into a temporary folder renamed into place at the end, so concurrent builders
// wait for each other and a killed run leaves nothing half-written.
//
// Modules: a module's loaded symbol table is the one of the shipped .ko (lib/modules/ABI/...),
// which keeps its local symbols, so module_index() indexes that file directly (no cache needed,
// ~10 ms for xfs). Its symbol order is the symbol-table order the kernel walks for modules.
// module_dependencies() reads the `depends=` of the shipped .ko files (what modpost recorded,
// the same list modprobe follows), transitively: the modules that are always loaded while the
// given module is, so a livepatch of it may refer to their symbols.
#pragma once

#include <set>
#include <string>

#include "core/result.h"
#include "klp/symbol_index.h"

namespace noreboot::klp {

struct KernelFiles {
  std::string abi;        // 6.1.0-56-amd64
  std::string kdir;       // $NOREBOOT_CACHE/kernels/ABI
  std::string headers;    // .../usr/src/linux-headers-ABI
  std::string moddir;     // .../lib/modules/ABI
  std::string dbg_deb;    // linux-image-ABI-dbg_*.deb (needed only to build the vmlinux index)
};

// Fills KernelFiles from the environment's NOREBOOT_CACHE (or ~/.cache/noreboot) and the ABI.
KernelFiles kernel_files_for(const std::string& abi);

std::string vmlinux_index_path(const KernelFiles& k);
Result<SymbolIndex> ensure_vmlinux_index(const KernelFiles& k);
// Path of the shipped module file (<name>.ko, '-' and '_' equivalent), or not_found.
Result<std::string> find_module_file(const KernelFiles& k, const std::string& module_name);
Result<SymbolIndex> module_index(const KernelFiles& k, const std::string& module_name);
// Every module `module_name` depends on, directly or through another, by kernel module name
// (usb-storage -> usb_storage); not the module itself.
Result<std::set<std::string>> module_dependencies(const KernelFiles& k, const std::string& module_name);

}  // namespace noreboot::klp
