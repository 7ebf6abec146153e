// Exported kernel symbols, from the headers package's Module.symvers.
//
// A livepatch module may reference an exported symbol with an ordinary relocation: the module
// loader resolves it, and modpost records its CRC in __versions. Everything else must become a
// livepatch relocation. Module.symvers lines are tab-separated:
//   0x06689996<TAB>klp_enable_patch<TAB>vmlinux<TAB>EXPORT_SYMBOL_GPL<TAB><namespace>
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
  std::string module;       // "vmlinux" or the exporting module's name
  std::string export_type;  // EXPORT_SYMBOL, EXPORT_SYMBOL_GPL
  std::string ns;           // symbol namespace, usually empty
};

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
