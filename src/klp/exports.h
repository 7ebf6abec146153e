// Exported kernel symbols, from the headers package's Module.symvers.
//
// A livepatch module may reference a symbol exported by vmlinux with an ordinary relocation:
// the module loader resolves it, and modpost records its CRC in __versions. A symbol exported
// by a module may not be referenced that way (modpost would make the livepatch depend on that
// module, see klp_convert.h), so the table also says who exports each name. Module.symvers
// lines are tab-separated; column 3 is "vmlinux" or the exporting module's path in the tree:
//   0x06689996<TAB>klp_enable_patch<TAB>vmlinux<TAB>EXPORT_SYMBOL_GPL<TAB>
//   0xbe364e12<TAB>usb_stor_control_msg<TAB>drivers/usb/storage/usb-storage<TAB>EXPORT_SYMBOL_GPL<TAB>USB_STORAGE
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

namespace noreboot::klp {

struct ExportedSymbol {
  std::string name;
  uint32_t crc = 0;
  std::string module;       // as written: "vmlinux" or the exporting module's path (net/sunrpc/sunrpc)
  std::string export_type;  // EXPORT_SYMBOL, EXPORT_SYMBOL_GPL
  std::string ns;           // symbol namespace, usually empty
  // The kernel's name of the exporting object: "vmlinux", or the module's name as the kernel
  // knows it (struct module::name, the name in .klp.sym.<object>.*): "sunrpc", "usb_storage".
  std::string owner() const;
};

// The kernel's name of a module given as a name or a path: the base name without ".ko", with
// '-' turned into '_' (drivers/usb/storage/usb-storage -> usb_storage), as KBUILD_MODNAME does.
std::string kernel_module_name(std::string_view name_or_path);

class ExportTable {
 public:
  static Result<ExportTable> load(const std::string& module_symvers_path);
  static Result<ExportTable> parse(std::string_view text, const std::string& what);
  const ExportedSymbol* find(std::string_view name) const;
  bool is_exported(std::string_view name) const { return find(name) != nullptr; }
  size_t size() const { return by_name_.size(); }

 private:
  std::unordered_map<std::string, ExportedSymbol> by_name_;
};

}  // namespace noreboot::klp
