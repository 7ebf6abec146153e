// Linking a livepatch module without make: Kbuild's own commands, recorded once, replayed.
//
// Problem: `make M=... modules` costs seconds of make start-up and rule evaluation (twice:
// the build and the modpost/modfinal passes) for five commands that take about a second.
//
// Approach: once per kernel, ensure_link_recipe() runs Kbuild (V=1) on a template module and
// records the exact commands it ran, from the .cmd files Kbuild writes (the stub compile with
// objtool, `ld -r` of the parts, the .mod.c compile, the final `ld -T module.lds`) and from the
// verbose log (modpost). The template's folder and module name become @DIR@ and @NAME@. The
// recipe lives in $KDIR/klp-kbuild/recipe (flock, temporary name, rename). link_direct()
// substitutes the real folder and name and runs the five commands from the headers folder, as
// Kbuild does. kbuild_direct_test proves that the .ko is byte-identical to what Kbuild makes.
//
// Trade-off: the recipe is tied to the Kbuild version that recorded it; it is re-recorded per
// kernel, and a recipe that lacks a command is an error (fall back to Kbuild), never a guess.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "klp/symbol_cache.h"

namespace noreboot::klp {

struct LinkRecipe {
  std::string stub;     // compile noreboot_stub.c (+ objtool)
  std::string link;     // ld -r -o @DIR@/@NAME@.o @@DIR@/@NAME@.mod
  std::string modpost;  // writes @NAME@.mod.c
  std::string modc;     // compile @NAME@.mod.c
  std::string ko;       // final link with module.lds
};

Result<LinkRecipe> ensure_link_recipe(const KernelFiles& k, const std::string& cc);

// Links workdir/<name>.ko from workdir/noreboot_stub.c and the parts (object file names in
// workdir, already in place).
Status link_direct(const LinkRecipe& recipe, const KernelFiles& k, const std::string& workdir,
                   const std::string& module_name, const std::vector<std::string>& parts);

}  // namespace noreboot::klp
