#include "diff/names.h"

#include <vector>

#include "core/numbers.h"

namespace noreboot::diff {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string_view base_of(std::string_view name) {
  size_t start = (!name.empty() && name[0] == '.') ? 1 : 0;
  size_t dot = name.find('.', start);
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

}  // namespace

std::string normalize_name(std::string_view name) {
  // Split after the base; a leading '.' belongs to the base (".bss.x.0": base ".bss").
  size_t start = (!name.empty() && name[0] == '.') ? 1 : 0;
  size_t dot = name.find('.', start);
  std::string out(name.substr(0, dot));
  // __UNIQUE_ID_ddebug123: the kernel's __COUNTER__-numbered names; drop the trailing counter.
  if (out.rfind("__UNIQUE_ID_", 0) == 0)
    while (!out.empty() && is_ascii_digit(out.back())) out.pop_back();
  if (dot == std::string_view::npos) return out;
  std::vector<std::string_view> parts;
  std::string_view rest = name.substr(dot + 1);
  while (true) {
    size_t d = rest.find('.');
    parts.push_back(rest.substr(0, d));
    if (d == std::string_view::npos) break;
    rest = rest.substr(d + 1);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (all_digits(parts[i])) continue;
    if (parts[i] == "llvm" && i + 1 < parts.size() && all_digits(parts[i + 1])) {
      ++i;
      continue;
    }
    out += '.';
    out += parts[i];
  }
  return out;
}

bool is_cold_part(std::string_view name) {
  std::string n = normalize_name(name);
  return n.size() > 5 && n.compare(n.size() - 5, 5, ".cold") == 0;
}

bool is_compiler_clone(std::string_view name) {
  if (is_cold_part(name)) return false;
  std::string n = normalize_name(name) + ".";
  for (std::string_view tag : {".isra.", ".constprop.", ".part."})
    if (n.find(tag) != std::string::npos) return true;
  return false;
}

FreshKind fresh_kind(std::string_view symbol_name, std::string_view section_name) {
  if (section_name == "__dyndbg") return FreshKind::descriptor;
  if (section_name == ".data.once" || section_name == ".data..once") return FreshKind::state;
  std::string_view base = base_of(symbol_name);
  if (base == "__already_done" || base == "__print_once" || base == "__warned" || base == "__key")
    return FreshKind::state;
  if (base == "__func__" || base == "CSWTCH" || base == "_rs") return FreshKind::content;
  if (symbol_name.rfind("__UNIQUE_ID_ddebug", 0) == 0) return FreshKind::descriptor;
  return FreshKind::none;
}

}  // namespace noreboot::diff
