// See exports.h.
#include "klp/exports.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/file_io.h"

namespace noreboot::klp {

Result<ExportTable> ExportTable::load(const std::string& path) {
  auto text = read_text(path);
  if (!text) return Error(Errc::not_found, path + ": cannot open Module.symvers (is the headers package unpacked?)");
  return parse(*text, path);
}

Result<ExportTable> ExportTable::parse(std::string_view text, const std::string& what) {
  ExportTable t;
  size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    size_t start = 0;
    while (true) {
      auto tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (f.size() < 4 || f[0].substr(0, 2) != "0x" || f[1].empty())
      return Error(Errc::invalid_input, what + ":" + std::to_string(line_no) +
                                            ": expected 'CRC<TAB>name<TAB>module<TAB>export type[<TAB>namespace]'");
    ExportedSymbol s;
    auto hex = f[0].substr(2);
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), s.crc, 16);
    if (ec != std::errc() || end != hex.data() + hex.size())
      return Error(Errc::invalid_input, what + ":" + std::to_string(line_no) + ": bad CRC '" + std::string(f[0]) + "'");
    s.name = std::string(f[1]);
    s.module = std::string(f[2]);
    s.export_type = std::string(f[3]);
    if (f.size() > 4) s.ns = std::string(f[4]);
    t.by_name_[s.name] = std::move(s);
  }
  return t;
}

std::string kernel_module_name(std::string_view name_or_path) {
  if (auto slash = name_or_path.find_last_of('/'); slash != std::string_view::npos)
    name_or_path.remove_prefix(slash + 1);
  if (name_or_path.ends_with(".ko")) name_or_path.remove_suffix(3);
  std::string out(name_or_path);
  for (auto& c : out)
    if (c == '-') c = '_';
  return out;
}

std::string ExportedSymbol::owner() const { return module == "vmlinux" ? module : kernel_module_name(module); }

const ExportedSymbol* ExportTable::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace noreboot::klp
