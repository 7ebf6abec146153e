// Proof against the shipped code: the original of every function a fix replaces must be the
// code the target kernel runs, byte for byte.
//
// Problem: the builder compiles the touched files in a prepared tree and diffs original
// against patched. The fast path is checked against Kbuild's object in the *same* tree, which
// proves the replay, not the source. A tree made from the wrong linux-source (it happened: a
// 6.1.0-56 build used 6.1.192-3's source) gives a livepatch that replaces running functions
// with code compiled from another kernel, and nothing noticed. The kernel only checks vermagic,
// which names the ABI, not the source the patch was made from.
//
// Approach: after the diff and before the module is made, every function the patch replaces
// (UnitDiff::replaced, by its kernel name) and its `.cold` part, if it has one, is read from the
// ORIGINAL object and from the shipped code, and the two are compared:
//  - vmlinux: address and size come from the -dbg symbol index (klp::SymbolIndex). A local
//    name that vmlinux has several times is resolved exactly as klp resolves sympos
//    (SymbolIndex::resolve with the unit's STT_FILE and its other local names), so the copy
//    compared is the copy the livepatch will replace. The bytes come from the image's vmlinux
//    (decompressed from the shipped vmlinuz). It has no symbols but keeps its section headers
//    (39 on 6.1.0-57-amd64: `.text` at ffffffff81000000, file offset 0x200000 ...); the
//    section holding [address, address + size) gives the file offset.
//  - module: the shipped .ko (klp::find_module_file) keeps its symbol table; the symbol of that
//    name and binding, its bytes in its section. A local name the .ko defines twice is refused
//    (the shipped .ko has no STT_FILE markers; klp refuses the same name for the same reason).
// All three files are read through klp::ElfView (mapped, bounds-checked, never copied). The
// object and the .ko are both relocatable, so one reader gives the code and relocations of
// either.
//
// What may differ, and why; nothing else does (one differing byte refuses the build):
//  1. Bytes covered by a relocation of the ORIGINAL object. The object holds zeros there, the
//     image the linked value (and a module the value the loader will write). Only the
//     relocated field is masked (R_X86_64_PLT32: 4 bytes), never the opcode before it:
//       object:   e8 00 00 00 00    call  cmdline_proc_show+0x5   R_X86_64_PLT32 __fentry__-0x4
//       image:    e8 7b 36 de ff    call  ffffffff81e0c900 <__fentry__>
//  2. For a module, bytes covered by a relocation of the shipped .ko: it is relocatable too, so
//     its relocated fields hold zeros or an addend that depends on where ld -r placed the
//     target. The mask is the union of both files' relocations: Debian compiles without
//     -ffunction-sections, so a call to a static function in the same .text is resolved by the
//     assembler there (no relocation in the .ko) while our object has one; the other way round
//     (.ko relocation, none in our object) covers what ld -r left for the module loader.
// Not allowed, because the real image does not need it:
//  - the ftrace site. The image still holds `call __fentry__` (e8 + rel32; the kernel turns it
//    into a NOP at boot), so only its relocated rel32 is masked, as any call's. Measured on
//    6.1.0-57-amd64: every compared function's first byte is e8 in object and image alike.
//  - objtool's rewrites (jump-label NOPs, retpoline and return-thunk sites, static calls): objtool
//    runs on each object in Kbuild's recorded command, ours and Debian's alike (6.1 without IBT
//    or LTO runs no rewriting objtool pass on vmlinux.o), so those bytes are equal or relocated.
//  - alternatives, paravirt patching, jump labels: applied by the kernel at boot or load; the
//    files hold the original instructions on both sides.
//  - a different size: the functions must have the same st_size.
//
// Trade-offs: masked bytes are not proved equal, so a function that differs only in the target
// of a call or data reference (kfree -> kvfree) passes; resolving every relocation by name
// against the image (as the objcompare recipe did for 8,911 relocations) would close that and
// is not done here. The check costs one read of the symbol index (shared with klp) and a page
// or two of the image per function: milliseconds. A `__weak` default that the image overrides
// is refused here with the reason klp would give, before its bytes are compared with the
// override's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "build/livepatch.h"
#include "build/profile.h"
#include "build/units.h"
#include "core/result.h"

namespace noreboot::klp {
class ElfView;
class SymbolIndex;
}  // namespace noreboot::klp

namespace noreboot::build {

// The code of one function and which of its bytes a linker or loader legitimately rewrites.
struct FunctionCode {
  std::span<const uint8_t> bytes;
  std::vector<bool> masked;  // masked[i]: byte i is covered by a relocation
  std::string where;         // for messages: "vmlinux at ffffffff81234560", "nfsd.ko .text+0x1a0"
};

// FUNCTION's bytes in a relocatable file (our object or a shipped .ko), every byte a relocation
// of that file writes masked. not_found when the file defines no such function.
Result<FunctionCode> code_in_relocatable(const klp::ElfView& file, std::string_view function);
// SIZE bytes at ADDRESS of an executable image (the section holding them gives the offset).
Result<FunctionCode> code_in_image(const klp::ElfView& image, uint64_t address, uint64_t size);

// The first offset where two functions differ outside the masked bytes of either; nullopt when
// they are equal there. The sizes must be equal (the caller checks and says so).
std::optional<uint64_t> first_difference(const FunctionCode& ours, const FunctionCode& shipped);

// The shipped code of one livepatch target.
struct ShippedCode {
  std::string target;                       // "vmlinux" or the module's name
  std::string file;                         // the image's vmlinux or the .ko (messages)
  const klp::ElfView* elf = nullptr;        // that file
  const klp::SymbolIndex* index = nullptr;  // vmlinux: the -dbg symbol index; null for a module
  // For the "what to do" of a refusal: the target's release, the tree, and the source package
  // it must be made from ("linux-source-6.1=6.1.192-3"); each may be empty.
  std::string kernel;
  std::string tree;
  std::string source_package;
};

struct ShippedCheck {
  size_t functions = 0;       // compared and equal
  size_t bytes = 0;           // their bytes
  size_t masked = 0;          // of which relocated (not compared)
  std::vector<Refusal> refusals;
};

// Compares FUNCTIONS (kernel names) of the original object (OBJECT, compiled from SOURCE) with
// SHIPPED; each function either counts as equal in OUT or adds a refusal. An Error only for
// unreadable input (a malformed object, an unknown relocation type).
Status check_unit(const klp::ElfView& object, const std::string& source, const std::vector<std::string>& functions,
                  const ShippedCode& shipped, ShippedCheck& out);

// The pass: every unit of DIFFS against the image and modules of PROFILE's Debian kernel.
Result<ShippedCheck> check_shipped_code(const KernelProfile& profile, const DiffSummary& diffs);

}  // namespace noreboot::build
