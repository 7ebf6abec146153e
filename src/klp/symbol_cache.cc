// See symbol_cache.h.
#include "klp/symbol_cache.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "core/bundle.h"
#include "core/file_io.h"
#include "core/log.h"
#include "klp/exports.h"
#include "core/file_lock.h"
#include "core/process.h"

namespace noreboot::klp {
namespace fs = std::filesystem;

KernelFiles kernel_files_for(const std::string& abi) {
  KernelFiles k;
  k.abi = abi;
  const char* cache = std::getenv("NOREBOOT_CACHE");
  const char* home = std::getenv("HOME");
  std::string root = cache && *cache ? cache : std::string(home ? home : "/root") + "/.cache/noreboot";
  k.kdir = root + "/kernels/" + abi;
  k.headers = k.kdir + "/root/usr/src/linux-headers-" + abi;
  k.moddir = k.kdir + "/root/lib/modules/" + abi;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/debs", ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("linux-image-" + abi + "-dbg_", 0) == 0 && e.path().extension() == ".deb")
      k.dbg_deb = e.path().string();
  }
  return k;
}

std::string vmlinux_index_path(const KernelFiles& k) { return k.kdir + "/symbols/vmlinux.idx"; }

Result<SymbolIndex> ensure_vmlinux_index(const KernelFiles& k) {
  std::string final_dir = k.kdir + "/symbols";
  std::string idx_path = vmlinux_index_path(k);
  if (fs::exists(idx_path)) return SymbolIndex::load(idx_path);
  std::error_code ec;
  fs::create_directories(k.kdir, ec);
  NR_TRY(auto lock, FileLock::acquire(k.kdir + "/symbols.lock"));
  if (fs::exists(idx_path)) return SymbolIndex::load(idx_path);  // another run built it meanwhile
  if (k.dbg_deb.empty() || !fs::exists(k.dbg_deb))
    return Error(Errc::not_found, "no linux-image-" + k.abi + "-dbg package in the cache: run "
                                  "'scripts/kernel-fetch --abi " + k.abi + " --dbg' first");
  std::string tmp = final_dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Error(Errc::io, tmp + ": " + ec.message());
  auto t0 = std::chrono::steady_clock::now();
  log::info("klp: extracting the debug vmlinux and System.map from {} (about 50 s)", k.dbg_deb);
  std::string boot = "./usr/lib/debug/boot/";
  auto extracted = run_shell("dpkg-deb --fsys-tarfile " + shell_quote(k.dbg_deb) + " | tar -x -C " +
                                 shell_quote(tmp) + " " + shell_quote(boot + "vmlinux-" + k.abi) + " " +
                                 shell_quote(boot + "System.map-" + k.abi),
                             "extracting vmlinux from " + k.dbg_deb);
  if (!extracted) {
    fs::remove_all(tmp, ec);
    return std::move(extracted).error();
  }
  auto t1 = std::chrono::steady_clock::now();
  std::string vmlinux = tmp + "/usr/lib/debug/boot/vmlinux-" + k.abi;
  auto idx = SymbolIndex::from_elf(vmlinux, "vmlinux", SymOrder::address);
  if (!idx) {
    fs::remove_all(tmp, ec);
    return std::move(idx).error();
  }
  auto saved = idx->save(tmp + "/vmlinux.idx");
  fs::rename(tmp + "/usr/lib/debug/boot/System.map-" + k.abi, tmp + "/System.map", ec);
  fs::remove_all(tmp + "/usr", ec);
  if (!saved) {
    fs::remove_all(tmp, ec);
    return std::move(saved).error();
  }
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) return Error(Errc::io, final_dir + ": " + ec.message());
  auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::milliseconds;
  log::info("klp: symbol index of {} symbols in {} (extract {} ms, index {} ms)", idx->symbols().size(), final_dir,
            std::chrono::duration_cast<ms>(t1 - t0).count(), std::chrono::duration_cast<ms>(t2 - t1).count());
  return idx;
}

Result<std::string> find_module_file(const KernelFiles& k, const std::string& module_name) {
  std::string want = kernel_module_name(module_name);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(k.moddir + "/kernel", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file() && it->path().extension() == ".ko" &&
        kernel_module_name(it->path().filename().string()) == want)
      return it->path().string();
  }
  return Error(Errc::not_found, "module '" + module_name + "' is not shipped with kernel " + k.abi + " (looked in " +
                                    k.moddir + "/kernel)");
}

Result<SymbolIndex> module_index(const KernelFiles& k, const std::string& module_name) {
  NR_TRY(auto path, find_module_file(k, module_name));
  return SymbolIndex::from_elf(path, module_name, SymOrder::symtab);
}

Result<std::set<std::string>> module_dependencies(const KernelFiles& k, const std::string& module_name) {
  constexpr uint64_t kMaxModuleSize = 512ull << 20;  // the largest shipped module is about 60 MB
  std::set<std::string> found;
  std::vector<std::string> todo{kernel_module_name(module_name)};
  while (!todo.empty()) {
    std::string name = todo.back();
    todo.pop_back();
    NR_TRY(auto path, find_module_file(k, name));
    NR_TRY(auto bytes, read_file(path, kMaxModuleSize));
    auto depends = module_info_value(bytes, "depends");
    if (!depends) {
      if (depends.error().code() == Errc::not_found) continue;  // modpost always writes it; none is none
      return Error(depends.error().code(), path + ": " + depends.error().message());
    }
    std::string_view list = *depends;
    while (!list.empty()) {
      auto comma = list.find(',');
      std::string dep = kernel_module_name(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      if (!dep.empty() && found.insert(dep).second) todo.push_back(dep);
    }
  }
  found.erase(kernel_module_name(module_name));  // a cycle cannot exist, but never list the module itself
  return found;
}

}  // namespace noreboot::klp
