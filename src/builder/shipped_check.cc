// See shipped_check.h for the problem, the approach and every difference that is allowed.
#include "builder/shipped_check.h"

#include <cstdio>
#include <optional>
#include <variant>

#include "builder/compile.h"
#include "core/process.h"
#include "core/file_io.h"
#include "core/log.h"

#include "elf/arch_x86_64.h"
#include "elf/elf_types.h"
#include "klp/elf_view.h"
#include "klp/symbol_cache.h"
#include "klp/symbol_index.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

std::optional<uint64_t> first_difference(const FunctionCode& ours, const FunctionCode& shipped) {
  for (size_t i = 0; i < ours.bytes.size() && i < shipped.bytes.size(); ++i) {
    if (ours.masked[i] || shipped.masked[i]) continue;
    if (ours.bytes[i] != shipped.bytes[i]) return i;
  }
  return std::nullopt;
}


namespace {

constexpr uint16_t kEtExec = 2;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool defined_in_section(const klp::Symbol& s, const klp::ElfView& elf) {
  return s.st_shndx != elf::SHN_UNDEF && s.st_shndx < elf::SHN_LORESERVE && s.st_shndx < elf.section_count();
}

// The bytes of symbol SYM of a relocatable file (our object or a shipped .ko) with every byte a
// relocation of that file writes masked.
Result<FunctionCode> relocatable_code(const klp::ElfView& elf, const klp::Symbol& sym) {
  const auto& h = elf.header(sym.st_shndx);
  std::string where = elf.what() + " " + std::string(elf.section_name(sym.st_shndx)) + "+0x" + hex(sym.st_value);
  if (h.sh_type == elf::SHT_NOBITS || sym.st_value > h.sh_size || sym.st_size > h.sh_size - sym.st_value)
    return Error(Errc::invalid_input, where + ": " + sym.name + " (" + std::to_string(sym.st_size) +
                                          " bytes) lies outside its section");
  FunctionCode code;
  code.bytes = elf.section_bytes(sym.st_shndx).subspan(sym.st_value, sym.st_size);
  code.masked.assign(sym.st_size, false);
  code.where = where;
  for (size_t i = 1; i < elf.section_count(); ++i) {
    if (elf.header(i).sh_type != elf::SHT_RELA || elf.header(i).sh_info != sym.st_shndx) continue;
    NR_TRY(auto relas, elf.relas(i));
    for (const auto& r : relas) {
      if (r.r_offset < sym.st_value || r.r_offset >= sym.st_value + sym.st_size) continue;
      auto info = elf::x86_64::reloc_info(r.type);
      if (!info)
        return Error(Errc::unsupported, where + ": relocation type " + std::to_string(r.type) + " at +0x" +
                                            hex(r.r_offset - sym.st_value) +
                                            " is unknown, so the bytes it rewrites cannot be told apart");
      for (uint64_t k = r.r_offset - sym.st_value; k < r.r_offset - sym.st_value + info->size && k < sym.st_size; ++k)
        code.masked[k] = true;
    }
  }
  return code;
}

}  // namespace

Result<FunctionCode> code_in_image(const klp::ElfView& image, uint64_t addr, uint64_t size) {
  if (image.type() != kEtExec)
    return Error(Errc::invalid_input, image.what() + " is not an executable image (ELF type " +
                                          std::to_string(image.type()) + ")");
  for (size_t i = 1; i < image.section_count(); ++i) {
    const auto& h = image.header(i);
    if (!(h.sh_flags & elf::SHF_ALLOC) || h.sh_type == elf::SHT_NOBITS) continue;
    if (addr < h.sh_addr || addr - h.sh_addr > h.sh_size || size > h.sh_size - (addr - h.sh_addr)) continue;
    FunctionCode code;
    code.bytes = image.section_bytes(i).subspan(addr - h.sh_addr, size);
    code.masked.assign(size, false);
    code.where = image.what() + " at " + hex(addr);
    return code;
  }
  return Error(Errc::not_found, "no section of " + image.what() + " holds " + hex(addr) + ".." + hex(addr + size));
}

Result<FunctionCode> code_in_relocatable(const klp::ElfView& file, std::string_view function) {
  NR_TRY(auto symbols, file.symbols());
  for (const auto& s : symbols)
    if (s.name == function && s.type() == elf::STT_FUNC && defined_in_section(s, file))
      return relocatable_code(file, s);
  return Error(Errc::not_found, file.what() + " defines no function " + std::string(function));
}

namespace {

size_t count_masked(const FunctionCode& a, const FunctionCode& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.masked.size(); ++i) n += (a.masked[i] || b.masked[i]) ? 1 : 0;
  return n;
}

struct OriginalUnit {
  const klp::ElfView& object;
  const std::vector<klp::Symbol>& symbols;
  std::string source;
  std::string file;                      // STT_FILE
  std::vector<std::string> locals;       // local functions the unit defines (resolve's step 3)
};

// The recorded command without the builder's KCFLAGS words (-ffunction-sections,
// -fdata-sections): the command the shipped kernel's object was compiled with. Words are split
// at blanks, as fast_command splits them.
std::string without_section_flags(const std::string& cmd) {
  std::string out;
  size_t i = 0;
  while (i < cmd.size()) {
    size_t j = cmd.find_first_of(" \t", i);
    if (j == std::string::npos) j = cmd.size();
    std::string word = cmd.substr(i, j - i);
    if (word != "-ffunction-sections" && word != "-fdata-sections") out += word;
    while (j < cmd.size() && (cmd[j] == ' ' || cmd[j] == '\t')) out += cmd[j++];
    i = j;
  }
  return out;
}

std::string todo_for(const ShippedCode& shipped) {
  return "check that the tree" + (shipped.tree.empty() ? std::string() : " " + shipped.tree) +
         " is built from the exact linux-source of " + (shipped.kernel.empty() ? "the target kernel" : shipped.kernel) +
         (shipped.source_package.empty() ? std::string() : " (" + shipped.source_package + ")") +
         " with the .config of its linux-headers package; a tree made from another version builds a livepatch "
         "of another kernel's code";
}

// Finds the shipped code of OURS (its own size, which the caller compares); a refusal when it
// cannot be found.
Result<std::variant<FunctionCode, Refusal>> shipped_function(const OriginalUnit& u, const klp::Symbol& ours,
                                                             const ShippedCode& shipped,
                                                             const std::vector<klp::Symbol>& ko_symbols) {
  const std::string& name = ours.name;
  std::string what = u.source + ": " + name;
  bool local = ours.bind() == elf::STB_LOCAL;
  // Not in the shipped code at all: the usual sign of a tree made from another source.
  auto absent = [&](const std::string& why) {
    return Refusal{what,
                   "cannot be compared with the running kernel's code: " + why + "; the original object " +
                       u.object.what() + " defines it, so the tree's source is probably not the target kernel's",
                   todo_for(shipped)};
  };
  // Present, but the shipped symbol table cannot say which copy is the unit's.
  auto ambiguous = [&](const std::string& why) {
    return Refusal{what, "cannot be compared with the running kernel's code: " + why,
                   "not supported yet: the shipped symbols cannot tell which copy this unit's is, so neither the "
                   "check nor klp's sympos can be made"};
  };
  if (shipped.index != nullptr) {
    if (ours.bind() == elf::STB_WEAK && shipped.index->global_binding(name) == 'G')
      return Refusal{what,
                     "the patch changes the __weak default, but " + shipped.target +
                         " uses a strong definition from another file (patching the default would change nothing)",
                     "patch that definition instead"};
    auto res = shipped.index->resolve({name, local, local ? u.file : std::string(), u.locals});
    if (!res)
      return res.error().code() == Errc::not_found ? absent(res.error().message()) : ambiguous(res.error().message());
    const klp::KernelSymbol& k = *res->symbol;
    if (k.type != 'F') return absent(shipped.target + "'s symbol " + name + " is not a function");
    // The index comes from the -dbg package of the same build as the image: an address the
    // image does not hold means the two files do not belong together.
    auto code = code_in_image(*shipped.elf, k.addr, k.size);
    if (!code)
      return std::move(code).error().context(name + " (the -dbg symbol table and " + shipped.file +
                                             " are not of the same build?)");
    return std::move(code).value();
  }
  std::vector<const klp::Symbol*> found;
  for (const auto& s : ko_symbols)
    if (s.name == name && s.type() == elf::STT_FUNC && defined_in_section(s, *shipped.elf) &&
        (s.bind() == elf::STB_LOCAL) == local)
      found.push_back(&s);
  if (found.empty())
    return absent(std::string("the shipped ") + shipped.file + " defines no " + (local ? "local" : "global") +
                   " function " + name);
  if (found.size() > 1)
    return ambiguous("the shipped " + shipped.file + " defines " + std::to_string(found.size()) + " local functions " +
                   name + " and keeps no STT_FILE to tell which is the unit's");
  NR_TRY(auto code, relocatable_code(*shipped.elf, *found.front()));
  return code;
}

// One object's view of a unit, for the comparisons below.
OriginalUnit read_unit(const klp::ElfView& object, const std::vector<klp::Symbol>& symbols, const std::string& source) {
  OriginalUnit u{object, symbols, source, {}, {}};
  for (const auto& s : symbols) {
    if (s.type() == elf::STT_FILE && u.file.empty()) u.file = s.name;
    // The unit's other local functions tell apart units that share a base name (28 core.c);
    // functions only: every one of them is in the image's block of that unit.
    if (s.bind() == elf::STB_LOCAL && s.type() == elf::STT_FUNC && defined_in_section(s, object) &&
        (object.header(s.st_shndx).sh_flags & elf::SHF_ALLOC))
      u.locals.push_back(s.name);
  }
  return u;
}

// What the comparison of one function (with its .cold part) found.
struct FunctionOutcome {
  std::vector<Refusal> refusals;
  bool code_differs = false;  // found in the shipped code, but with other bytes or another size
  size_t parts = 0, bytes = 0, masked = 0;
  std::vector<std::string> equal;  // "[verify] ..." lines of the parts that are equal
};

Result<FunctionOutcome> check_function(const OriginalUnit& u, const std::string& fn, const ShippedCode& shipped,
                                       const std::vector<klp::Symbol>& ko_symbols, const std::string& object_role) {
  auto find = [&](const std::string& name) -> const klp::Symbol* {
    for (const auto& s : u.symbols)
      if (s.name == name && s.type() == elf::STT_FUNC && defined_in_section(s, u.object)) return &s;
    return nullptr;
  };
  // The function and its cold part (GCC's fn.cold in .text.unlikely): both are its code.
  std::vector<const klp::Symbol*> parts;
  const klp::Symbol* main = find(fn);
  if (main == nullptr)
    return Error(Errc::internal, u.object.what() + " does not define " + fn + ", which the differ reported as changed");
  parts.push_back(main);
  if (const klp::Symbol* cold = find(fn + ".cold")) parts.push_back(cold);
  FunctionOutcome out;
  for (const klp::Symbol* part : parts) {
    NR_TRY(auto ours, relocatable_code(u.object, *part));
    NR_TRY(auto theirs, shipped_function(u, *part, shipped, ko_symbols));
    if (auto* r = std::get_if<Refusal>(&theirs)) {
      out.refusals.push_back(std::move(*r));
      continue;
    }
    const auto& code = std::get<FunctionCode>(theirs);
    auto at = first_difference(ours, code);
    if (at || ours.bytes.size() != code.bytes.size()) {
      std::string where = part->name + " in the " + object_role + " " + u.object.what() + " and in " + code.where;
      std::string detail =
          ours.bytes.size() != code.bytes.size()
              ? " differ in size (0x" + hex(ours.bytes.size()) + " and 0x" + hex(code.bytes.size()) + " bytes" +
                    (at ? ", first differing byte at +0x" + hex(*at) : std::string()) + ")"
              : " differ at offset +0x" + hex(*at) + " of 0x" + hex(ours.bytes.size()) + " bytes (ours " +
                    hex(ours.bytes[*at]) + ", shipped " + hex(code.bytes[*at]) + "; relocated bytes masked)";
      out.refusals.push_back({u.source + ": " + part->name,
                              "the tree's source does not produce the running kernel's code: " + where + detail,
                              todo_for(shipped)});
      out.code_differs = true;
      continue;
    }
    out.parts += 1;
    out.bytes += ours.bytes.size();
    out.masked += count_masked(ours, code);
    out.equal.push_back(log::format("[verify] {}: {} equals {} ({} bytes, {} relocated){}", u.source, part->name,
                                    code.where, ours.bytes.size(), count_masked(ours, code),
                                    object_role == "original object" ? "" : " in the " + object_role));
  }
  return out;
}

void count(const FunctionOutcome& f, ShippedCheck& out) {
  out.functions += f.parts;
  out.bytes += f.bytes;
  out.masked += f.masked;
  for (const auto& line : f.equal) log::info("{}", line);
}

}  // namespace

Status check_unit(const klp::ElfView& object, const std::string& source, const std::vector<std::string>& functions,
                  const ShippedCode& shipped, ShippedCheck& out, const CompileAsShipped& as_shipped) {
  NR_TRY(auto symbols, object.symbols());
  std::vector<klp::Symbol> ko_symbols;
  if (shipped.index == nullptr) {
    auto s = shipped.elf->symbols();
    if (!s) return std::move(s).error().context("the shipped " + shipped.target);
    ko_symbols = std::move(s).value();
  }
  OriginalUnit u = read_unit(object, symbols, source);
  std::vector<std::pair<std::string, FunctionOutcome>> differing;
  for (const auto& fn : functions) {
    NR_TRY(auto f, check_function(u, fn, shipped, ko_symbols, "original object"));
    if (f.code_differs && as_shipped) {
      differing.emplace_back(fn, std::move(f));
      continue;
    }
    count(f, out);
    for (auto& r : f.refusals) out.refusals.push_back(std::move(r));
  }
  if (differing.empty()) return ok_status();

  // Code differs. One legitimate cause: Debian compiled without -ffunction-sections, so its
  // assembler shortened a jump to a static function in the same .text (e9 rel32 -> eb rel8)
  // that in our object goes to another section. Compiled once more as the shipped kernel was
  // (the recorded command without the builder's two section flags), the function must then
  // equal the shipped code with only relocated bytes masked; a wrong tree fails this as well.
  NR_TRY(auto path, as_shipped());
  NR_TRY(auto map, klp::MappedFile::open(path.string()));
  NR_TRY(auto view, klp::ElfView::parse(map.bytes(), object.what()));
  NR_TRY(auto again_symbols, view.symbols());
  OriginalUnit again = read_unit(view, again_symbols, source);
  const std::string role = "object compiled as the shipped kernel was (without " + std::string(kKcflags) + ")";
  for (auto& [fn, first] : differing) {
    NR_TRY(auto second, check_function(again, fn, shipped, ko_symbols, role));
    if (second.refusals.empty()) {
      count(second, out);
      continue;
    }
    count(first, out);  // its parts that were equal in the original
    for (auto& r : first.refusals) {
      if (r.reason.find("does not produce the running kernel's code") != std::string::npos)
        r.reason += "; compiled as the shipped kernel was (without " + std::string(kKcflags) + ") it differs too";
      out.refusals.push_back(std::move(r));
    }
  }
  return ok_status();
}

Result<ShippedCheck> check_shipped_code(const KernelProfile& profile, const DiffSummary& diffs, const fs::path& work) {
  if (!profile.from_debian)
    return Error(Errc::unsupported, "the original code can be checked against the shipped kernel only for Debian "
                                    "kernel profiles (--kernel debian:ABI): the symbols come from the -dbg package");
  klp::KernelFiles k = klp::kernel_files_for(profile.abi);
  std::string source_package;  // linux-source-6.1=6.1.192-3, from kernel-fetch's NR_VERSION
  if (auto env = read_text(profile.kdir / "fetch.env"); env.ok()) {
    auto pos = env->find("NR_VERSION=");
    if (pos != std::string::npos) {
      auto end = env->find('\n', pos);
      source_package = "linux-source-" + profile.abi.substr(0, profile.abi.find('.', profile.abi.find('.') + 1)) + "=" +
             env->substr(pos + 11, end == std::string::npos ? std::string::npos : end - pos - 11);
    }
  }

  ShippedCheck out;
  // The image and its index are opened only when a unit is built into vmlinux.
  std::optional<klp::SymbolIndex> index;
  std::optional<klp::MappedFile> image_map;
  std::optional<klp::ElfView> image;
  for (const auto& ud : diffs.units) {
    std::vector<std::string> functions;
    for (const auto& [patched, kernel] : ud.replaced) functions.push_back(kernel);
    if (functions.empty()) continue;
    NR_TRY(auto object_map, klp::MappedFile::open(ud.unit.original.string()));
    NR_TRY(auto object, klp::ElfView::parse(object_map.bytes(), ud.unit.unit.object));
    const std::string& owner = ud.unit.unit.owner;
    ShippedCode shipped{
        .target = owner, .kernel = profile.abi, .tree = profile.tree.string(), .source_package = source_package};
    std::optional<klp::MappedFile> ko_map;
    std::optional<klp::ElfView> ko;
    if (owner == "vmlinux") {
      if (!index) {
        NR_TRY(index, klp::ensure_vmlinux_index(k));
        if (profile.vmlinux.empty() || !fs::exists(profile.vmlinux))
          return Error(Errc::not_found, "no decompressed vmlinux of " + profile.abi +
                                            " in the cache (kernel-fetch's NR_VMLINUX): the original code is checked "
                                            "against it");
        NR_TRY(image_map, klp::MappedFile::open(profile.vmlinux.string()));
        auto view = klp::ElfView::parse(image_map->bytes(), "vmlinux");
        if (!view)
          return std::move(view).error().context(profile.vmlinux.string() +
                                                 " (the image's vmlinux; its section headers locate the code)");
        image = std::move(view).value();
      }
      shipped.file = profile.vmlinux.string();
      shipped.elf = &*image;
      shipped.index = &*index;
    } else {
      NR_TRY(auto path, klp::find_module_file(k, owner));
      NR_TRY(ko_map, klp::MappedFile::open(path));
      NR_TRY(ko, klp::ElfView::parse(ko_map->bytes(), fs::path(path).filename().string()));
      shipped.file = fs::path(path).filename().string();
      shipped.elf = &*ko;
    }
    const Unit& unit = ud.unit.unit;
    auto as_shipped = [&]() -> Result<fs::path> {
      fs::path obj = work / "as-shipped" / unit.object;
      std::error_code ec;
      fs::create_directories(obj.parent_path(), ec);
      std::string cmd = without_section_flags(fast_command(unit, work / "src-orig", obj));
      log::info("[verify] {}: the original differs; compiling it as the shipped kernel was (without {})",
                unit.source, kKcflags);
      fs::path log = obj;
      log += ".log";
      auto r = run_checked({"sh", "-c", cmd}, {.cwd = profile.tree, .log = log});
      if (!r.ok()) return std::move(r).error().context("compiling " + unit.source + " as the shipped kernel was");
      return obj;
    };
    NR_TRY_STATUS(check_unit(object, unit.source, functions, shipped, out, as_shipped));
  }
  log::info("[verify] {} function(s) equal the shipped code ({} bytes, {} of them relocated and masked); {} refused",
            out.functions, out.bytes, out.masked, out.refusals.size());
  return out;
}


}  // namespace noreboot::builder
