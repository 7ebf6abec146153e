// See symbol_index.h.
//
// On-disk format (text, so a person can grep it; ~6 MB for vmlinux):
//   noreboot-symbol-index 1 <object> <address|symtab>
//   B <file base name>                      one line per STT_FILE block, in symbol-table order
//   <addr hex> <size> <type><bind> <block> <name>   one line per symbol, in kallsyms order
#include "klp/symbol_index.h"

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/numbers.h"

namespace noreboot::klp {
namespace {

char type_letter(uint8_t t) {
  switch (t) {
    case STT_FUNC: return 'F';
    case STT_OBJECT: return 'O';
    case STT_TLS: return 'T';
    case STT_COMMON: return 'C';
    default: return 'N';
  }
}

char bind_letter(uint8_t b) {
  switch (b) {
    case STB_LOCAL: return 'L';
    case STB_WEAK: return 'W';
    default: return 'G';
  }
}

}  // namespace

bool is_compiler_numbered(std::string_view name) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return false;
  return std::all_of(name.begin() + static_cast<long>(dot) + 1, name.end(), is_ascii_digit);
}

Result<SymbolIndex> SymbolIndex::from_elf(const std::string& path, std::string object_name, SymOrder order) {
  NR_TRY(auto map, MappedFile::open(path));
  NR_TRY(auto view, ElfView::parse(map.bytes(), path));
  return from_view(view, std::move(object_name), order);
}

Result<SymbolIndex> SymbolIndex::from_view(const ElfView& view, std::string object_name, SymOrder order) {
  NR_TRY(auto raw, view.symbols());
  SymbolIndex idx;
  idx.object_ = std::move(object_name);
  idx.order_ = order;
  struct Keyed {
    KernelSymbol sym;
    size_t symtab_pos;
  };
  std::vector<Keyed> keyed;
  int32_t block = -1;
  for (size_t i = 1; i < raw.size(); ++i) {
    const auto& s = raw[i];
    if (s.type() == STT_FILE) {
      idx.blocks_.push_back(s.name);
      block = static_cast<int32_t>(idx.blocks_.size() - 1);
      continue;
    }
    if (s.type() == STT_SECTION || s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS || s.name.empty())
      continue;
    if (s.st_shndx < view.section_count() && view.type() == ET_REL &&
        ((view.header(s.st_shndx).sh_flags & SHF_ALLOC) == 0 || view.section_name(s.st_shndx).starts_with(".init")))
      continue;  // a module's kallsyms keep only symbols of allocated, non-init sections
    KernelSymbol k;
    k.addr = s.st_value;
    k.size = s.st_size;
    k.type = type_letter(s.type());
    k.bind = bind_letter(s.bind());
    k.block = s.bind() == STB_LOCAL ? block : -1;
    k.name = s.name;
    keyed.push_back({std::move(k), i});
  }
  if (order == SymOrder::address) {
    std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
      if (a.sym.addr != b.sym.addr) return a.sym.addr < b.sym.addr;
      bool aw = a.sym.bind == 'W', bw = b.sym.bind == 'W';
      if (aw != bw) return bw;  // kallsyms lists weak symbols after others at one address
      return a.symtab_pos < b.symtab_pos;
    });
  }
  idx.syms_.reserve(keyed.size());
  for (auto& k : keyed) idx.syms_.push_back(std::move(k.sym));
  idx.build_name_map();
  return idx;
}

void SymbolIndex::build_name_map() {
  by_name_.clear();
  for (uint32_t i = 0; i < syms_.size(); ++i) by_name_[syms_[i].name].push_back(i);
}

Status SymbolIndex::save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return Error(Errc::io, tmp + ": cannot create");
    f << "noreboot-symbol-index 1 " << object_ << ' '
      << (order_ == SymOrder::address ? "address" : "symtab") << '\n';
    for (const auto& b : blocks_) f << "B " << b << '\n';
    char buf[64];
    for (const auto& s : syms_) {
      std::snprintf(buf, sizeof buf, "%llx %llu %c%c %d ", static_cast<unsigned long long>(s.addr),
                    static_cast<unsigned long long>(s.size), s.type, s.bind, s.block);
      f << buf << s.name << '\n';
    }
    f.flush();
    if (!f) return Error(Errc::io, tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(Errc::io, path + ": rename failed");
  }
  return ok_status();
}

Result<SymbolIndex> SymbolIndex::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error(Errc::not_found, path + ": cannot open the symbol index");
  std::string line;
  auto bad = [&](size_t n) {
    return Error(Errc::invalid_input, path + ":" + std::to_string(n) +
                                          ": malformed symbol index line; delete the file to rebuild it");
  };
  if (!std::getline(f, line)) return bad(1);
  std::istringstream head(line);
  std::string magic, order;
  int version = 0;
  SymbolIndex idx;
  head >> magic >> version >> idx.object_ >> order;
  if (magic != "noreboot-symbol-index" || version != 1 || (order != "address" && order != "symtab"))
    return bad(1);
  idx.order_ = order == "address" ? SymOrder::address : SymOrder::symtab;
  size_t n = 1;
  while (std::getline(f, line)) {
    ++n;
    if (line.rfind("B ", 0) == 0) {
      idx.blocks_.push_back(line.substr(2));
      continue;
    }
    unsigned long long addr = 0, size = 0;
    char type = 0, bind = 0;
    int block = 0, consumed = 0;
    if (std::sscanf(line.c_str(), "%llx %llu %c%c %d %n", &addr, &size, &type, &bind, &block, &consumed) != 5 ||
        consumed <= 0 || static_cast<size_t>(consumed) >= line.size() ||
        block >= static_cast<int>(idx.blocks_.size()) || block < -1)
      return bad(n);
    idx.syms_.push_back({addr, size, type, bind, block, line.substr(static_cast<size_t>(consumed))});
  }
  idx.build_name_map();
  return idx;
}

std::vector<const KernelSymbol*> SymbolIndex::named(std::string_view name) const {
  std::vector<const KernelSymbol*> out;
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return out;
  for (auto i : it->second) out.push_back(&syms_[i]);
  return out;
}

char SymbolIndex::global_binding(std::string_view name) const {
  for (const auto* s : named(name))
    if (s->bind != 'L') return s->bind;
  return 0;
}

Result<Resolution> SymbolIndex::resolve(const SymbolQuery& q) const {
  auto all = named(q.name);
  std::string where = object_ + " symbol '" + q.name + "'";
  if (all.empty())
    return Error(Errc::not_found, where + " does not exist in the target kernel's symbol table "
                                          "(inlined or removed by the compiler?); the patch cannot refer to it");
  auto describe = [&](const std::vector<const KernelSymbol*>& v) {
    std::string s;
    for (const auto* k : v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(k->addr));
      s += std::string(s.empty() ? "" : ", ") + buf + " (" +
           (k->block >= 0 ? blocks_[static_cast<size_t>(k->block)] : std::string(k->bind == 'L' ? "?" : "global")) +
           ")";
    }
    return s;
  };
  std::vector<const KernelSymbol*> picked;
  if (!q.local) {
    for (const auto* k : all)
      if (k->bind != 'L') picked.push_back(k);
    if (picked.empty())
      return Error(Errc::not_found, where + " is global in the patched unit but only local copies exist in the "
                                            "kernel: " + describe(all));
  } else {
    for (const auto* k : all)
      if (k->bind == 'L' && (q.file.empty() || (k->block >= 0 && blocks_[static_cast<size_t>(k->block)] == q.file)))
        picked.push_back(k);
    // A shipped module's symbol table has no STT_FILE markers: its locals belong to no known
    // file. Accept such a copy only when it is the one local of that name (checked below).
    if (picked.empty())
      for (const auto* k : all)
        if (k->bind == 'L' && k->block < 0) picked.push_back(k);
    if (picked.empty())
      return Error(Errc::not_found, where + " (local to " + (q.file.empty() ? "?" : q.file) +
                                            ") has no copy from that file in the kernel; copies: " + describe(all));
    if (picked.size() > 1 && !q.unit_locals.empty()) {
      // Several units with this base name define the name: keep the blocks that define every
      // other (non-numbered) local name of the querying unit too.
      std::vector<const KernelSymbol*> narrowed;
      for (const auto* k : picked) {
        std::set<std::string_view> in_block;
        for (const auto& s : syms_)
          if (s.block == k->block) in_block.insert(s.name);
        bool all_there = true;
        for (const auto& n : q.unit_locals)
          if (!is_compiler_numbered(n) && !in_block.count(n)) { all_there = false; break; }
        if (all_there) narrowed.push_back(k);
      }
      picked = std::move(narrowed);
    }
  }
  if (picked.size() != 1)
    return Error(Errc::unsupported, where + " is ambiguous: " + std::to_string(picked.size()) +
                                        " candidates match (" + describe(picked.empty() ? all : picked) +
                                        "); refusing to guess which copy the patch means");
  Resolution r;
  r.symbol = picked.front();
  r.same_name_count = all.size();
  if (all.size() > 1)
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i] == picked.front()) r.sympos = i + 1;
  return r;
}

}  // namespace noreboot::klp
