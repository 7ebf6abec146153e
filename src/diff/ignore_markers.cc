// See ignore_markers.h.
#include "diff/ignore_markers.h"

#include <array>
#include <optional>
#include <string_view>

#include "elf/arch_x86_64.h"

namespace noreboot::diff {

using namespace noreboot::elf;

namespace {

enum class MarkerKind { function, section, static_local };

struct MarkerSection {
  std::string_view name;
  MarkerKind kind;
};

// noreboot's own names first, then kpatch's (a fix may carry a copy of kpatch's header).
constexpr std::array<MarkerSection, 5> kMarkerSections = {{
    {".noreboot.ignore.functions", MarkerKind::function},
    {".noreboot.ignore.sections", MarkerKind::section},
    {".noreboot.ignore.statics", MarkerKind::static_local},
    {".kpatch.ignore.functions", MarkerKind::function},
    {".kpatch.ignore.sections", MarkerKind::section},
}};

constexpr std::string_view kFunctionHint =
    "KPATCH_IGNORE_FUNCTION takes a function defined in the patched file (not a macro, not an extern): "
    "fix the name or remove the marker";
constexpr std::string_view kSectionHint =
    "KPATCH_IGNORE_SECTION takes the exact name of a section of the patched object (see `readelf -S` of it): "
    "fix the name or remove the marker";
constexpr std::string_view kStaticHint =
    "KPATCH_IGNORE_STATIC takes the name of a static variable of the patched file: fix the name or remove the marker";

// The string a marker pointer points at: symbol (a section symbol of .rodata.str*, or a
// named literal) + addend.
std::optional<std::string_view> marker_string(const Object& obj, const Relocation& r) {
  const Symbol& y = obj.symbols[r.r_sym];
  if (!y.is_defined_in_section() || r.r_addend < 0) return std::nullopt;
  auto at = string_at(obj.sections[y.st_shndx], y.st_value + static_cast<uint64_t>(r.r_addend));
  if (!at) return std::nullopt;
  return *at;
}

// `name` without a compiler suffix `.N` (static locals: counter.3 -> counter).
std::string_view without_number_suffix(std::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return name;
  for (size_t i = dot + 1; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return name;
  return name.substr(0, dot);
}

void ignore_function(const ObjectIndex& P, const Relocation& r, IgnoreMarkers& m) {
  const Object& obj = P.obj();
  Target t = P.resolve(r);
  const std::string shown = obj.symbol_name(r.r_sym);
  if (t.kind != Target::Kind::unit || P.unit(t.unit).kind != UnitKind::function || t.offset_in_unit != 0) {
    m.refused.push_back({shown, "KPATCH_IGNORE_FUNCTION names something that is not a function defined in this file",
                         std::string(kFunctionHint)});
    return;
  }
  const Unit& u = P.unit(t.unit);
  m.functions.push_back(u.name);
  m.ignored[t.unit] = true;
  for (uint32_t c : u.children) m.ignored[c] = true;
}

void ignore_section(const ObjectIndex& P, const Relocation& r, IgnoreMarkers& m) {
  const Object& obj = P.obj();
  auto name = marker_string(obj, r);
  if (!name) {
    m.refused.push_back({".noreboot.ignore.sections", "KPATCH_IGNORE_SECTION marker does not point at a string",
                         std::string(kSectionHint)});
    return;
  }
  std::string target(*name);
  if (target.starts_with(".rela") && obj.find_section(target) != 0) target = target.substr(5);
  uint32_t sec = obj.find_section(target);
  if (sec == 0) {
    m.refused.push_back({std::string(*name), "KPATCH_IGNORE_SECTION names a section the patched object does not have",
                         std::string(kSectionHint)});
    return;
  }
  m.sections.push_back(target);
  // Every section of that name (sections may repeat a name, e.g. with section groups).
  for (uint32_t s = 1; s < obj.sections.size(); ++s)
    if (obj.sections[s].name == target)
      for (uint32_t u : P.units_in(s)) m.ignored[u] = true;
}

void ignore_static(const ObjectIndex& P, const Relocation& r, IgnoreMarkers& m) {
  auto name = marker_string(P.obj(), r);
  if (!name) {
    m.refused.push_back({".noreboot.ignore.statics", "KPATCH_IGNORE_STATIC marker does not point at a string",
                         std::string(kStaticHint)});
    return;
  }
  bool found = false;
  for (uint32_t u = 0; u < P.units().size(); ++u) {
    const Unit& unit = P.unit(u);
    if (unit.kind != UnitKind::object || !P.is_local(unit)) continue;
    if (without_number_suffix(unit.name) != *name) continue;
    m.ignored[u] = true;
    found = true;
  }
  if (!found) {
    m.refused.push_back({std::string(*name), "KPATCH_IGNORE_STATIC names no static variable of the patched file",
                         std::string(kStaticHint)});
    return;
  }
  m.statics.emplace_back(*name);
}

}  // namespace

bool is_ignore_marker_section(std::string_view name) {
  for (const auto& ms : kMarkerSections)
    if (name == ms.name) return true;
  return false;
}

IgnoreMarkers read_ignore_markers(const ObjectIndex& P) {
  IgnoreMarkers m;
  m.ignored.assign(P.units().size(), false);
  const Object& obj = P.obj();
  for (uint32_t s = 1; s < obj.sections.size(); ++s) {
    const Section& sec = obj.sections[s];
    const MarkerSection* kind = nullptr;
    for (const auto& ms : kMarkerSections)
      if (sec.name == ms.name) kind = &ms;
    if (kind == nullptr || sec.is_rela()) continue;
    uint32_t rela = obj.rela_for(s);
    if (rela == 0) continue;
    for (const Relocation& r : obj.sections[rela].relocs) {
      switch (kind->kind) {
        case MarkerKind::function: ignore_function(P, r, m); break;
        case MarkerKind::section: ignore_section(P, r, m); break;
        case MarkerKind::static_local: ignore_static(P, r, m); break;
      }
    }
  }
  return m;
}

}  // namespace noreboot::diff
