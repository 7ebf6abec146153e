// The kernel symbol index: which symbol a livepatch reference means, and its sympos.
//
// Problem: a livepatch names the kernel symbols it uses by (object, name, sympos). sympos is
// the 1-based position of the symbol among all symbols of that name, counted in the order the
// kernel's symbol lookup walks them; 0 means "the name is unique" (the kernel refuses 0 when it
// is not). In vmlinux 302 local function names occur more than once, so the name alone is not
// enough, and several copies are often byte-identical, so the code cannot pick the copy either.
//
// Approach: the debug vmlinux (linux-image-ABI-dbg) keeps the full symbol table, where the
// linker emits every input object's local symbols as one block after that object's STT_FILE
// symbol (the source file's base name). So a local symbol's "block" tells which translation
// unit defined it. We record every symbol kallsyms would list (not STT_FILE/STT_SECTION, not
// undefined, not absolute) with address, size, type, binding and block, sorted in kallsyms
// order: for vmlinux that is address order (scripts/kallsyms.c sorts by address; ties: weak
// last, then symbol-table order); for a module it is the module's symbol-table order
// (kernel/module/kallsyms.c walks the module's symtab as loaded).
//
// resolve() picks, among the same-named symbols, the one whose block is the querying
// translation unit: same STT_FILE name, and when several units share a base name (core.c),
// the unit whose block also defines every other local name the querying object defines. It
// refuses (never guesses) when zero or several candidates remain.
//
// Trade-off: the index needs the 858 MB -dbg package once per kernel (cached, see
// symbol_cache.h); in exchange the answer comes from the linker's own record, not from a
// heuristic on code bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "klp/elf_view.h"

namespace noreboot::klp {

enum class SymOrder { address, symtab };

struct KernelSymbol {
  uint64_t addr = 0;
  uint64_t size = 0;
  char type = 'N';   // F function, O object, N notype, T tls, C common
  char bind = 'L';   // L local, G global, W weak
  int32_t block = -1;  // index into SymbolIndex::blocks(), -1 for globals / no STT_FILE
  std::string name;
};

struct SymbolQuery {
  std::string name;
  bool local = false;          // the symbol was LOCAL in the translation unit that uses it
  std::string file;            // base name of that unit's STT_FILE (e.g. "cmdline.c"); for locals
  // Other local names the unit defines (functions and objects). Used only when several units
  // share the base name; compiler-numbered names (foo.12) are ignored.
  std::vector<std::string> unit_locals;
};

struct Resolution {
  const KernelSymbol* symbol = nullptr;
  uint64_t sympos = 0;          // 0 when the name is unique in the object
  size_t same_name_count = 0;   // how many symbols carry this name
};

class SymbolIndex {
 public:
  // Builds the index from an ELF file's .symtab (the debug vmlinux, or a module's .ko).
  static Result<SymbolIndex> from_elf(const std::string& path, std::string object_name, SymOrder order);
  static Result<SymbolIndex> from_view(const ElfView& view, std::string object_name, SymOrder order);
  // The on-disk form (text, one line per symbol; see symbol_index.cc).
  static Result<SymbolIndex> load(const std::string& path);
  Status save(const std::string& path) const;

  const std::string& object_name() const { return object_; }
  const std::vector<KernelSymbol>& symbols() const { return syms_; }
  const std::vector<std::string>& blocks() const { return blocks_; }
  // Symbols with that name, in kallsyms order.
  std::vector<const KernelSymbol*> named(std::string_view name) const;

  Result<Resolution> resolve(const SymbolQuery& query) const;

  // The image's global definition of a name: 'G' strong, 'W' weak, 0 none.
  char global_binding(std::string_view name) const;

 private:
  void build_name_map();

  std::string object_;
  SymOrder order_ = SymOrder::address;
  std::vector<std::string> blocks_;
  std::vector<KernelSymbol> syms_;
  std::unordered_map<std::string_view, std::vector<uint32_t>> by_name_;
};

// Strips a compiler suffix for "is this a numbered/cloned name" checks: foo.12 -> true.
bool is_compiler_numbered(std::string_view name);

}  // namespace noreboot::klp
