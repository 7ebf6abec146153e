// Fuzz target: arbitrary bytes through the zero-copy ELF view and the symbol index built from
// it (the path the 630 MB debug vmlinux takes). Seeds: the ELF model's generated seed objects.
#include <cstdint>

#include "klp/elf_view.h"
#include "klp/symbol_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace noreboot::klp;
  auto view = ElfView::parse({data, size}, "fuzz");
  if (!view) return 0;
  for (size_t i = 0; i < view->section_count(); ++i) {
    (void)view->section_name(i);
    (void)view->section_bytes(i);
    if (view->header(i).sh_type == 4) (void)view->relas(i);  // SHT_RELA
  }
  for (auto order : {SymOrder::address, SymOrder::symtab}) {
    auto idx = SymbolIndex::from_view(*view, "fuzz", order);
    if (!idx) continue;
    for (const auto& s : idx->symbols()) (void)idx->resolve({s.name, s.bind == 'L', "a.c", {"x"}});
  }
  return 0;
}
