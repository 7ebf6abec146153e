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
// ORIGINAL object and from the shipped code, and the two are compared (see 3. below for the one
// case that needs a second compile of the unit):
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
//  1. Bytes covered by a relocation of the ORIGINAL object: the object holds zeros there, the
//     image the linked value. Only the relocated field is masked (4 bytes for PC32/PLT32/32S),
//     never the opcode. fs/proc/cmdline.o against the 6.1.0-57-amd64 image (objdump -dr):
//       object  0: e8 00 00 00 00     call ...  R_X86_64_PLT32 __fentry__-0x4
//               6: 48 8b 35 00 00 00 00  mov 0x0(%rip),%rsi  R_X86_64_PC32 saved_command_line-0x4
//       image   ffffffff814105a0: e8 ab 60 c6 ff    call 0xffffffff81076650  (T __fentry__)
//               ffffffff814105a6: 48 8b 35 5b 6a f0 01  mov 0x1f06a5b(%rip),%rsi  (B saved_command_line)
//     Debian compiles without -ffunction-sections, so where the shipped build's assembler
//     resolved a call to a static function in the same .text, our object (one section per
//     function) has a relocation; the linked bytes are masked by ours all the same. In
//     nfsd4_sequence of 6.1.0-57's nfsd.ko: 10 of our 50 relocations are such calls
//       object  139: e8 00 00 00 00   call ...  R_X86_64_PC32 .text.find_in_sessionid_hashtbl-0x4
//       nfsd.ko 35839: e8 92 c6 ff ff  call 31ed0 <find_in_sessionid_hashtbl>    (no relocation)
//  2. For a module, bytes covered by a relocation of the shipped .ko: it is relocatable too, so
//     those bytes are not the code that runs until the module loader writes them. (In the case
//     above every .ko relocation is also one of ours; the mask is the union all the same.)
//  3. The assembler's branch relaxation, which -ffunction-sections changes: where the shipped
//     build's assembler saw a tail call to a static function of the same .text within 128
//     bytes, it emitted a short jmp; in our object the callee is another section, so the jump
//     stays e9 rel32 and everything after it moves. nfsd4_lm_put_owner in 6.1.0-57's nfsd.ko:
//       object  a: e9 00 00 00 00   jmp ...  R_X86_64_PC32 .text.nfs4_put_stateowner-0x4
//       nfsd.ko 2dcca: eb 94        jmp 2dc60 <nfs4_put_stateowner>          (0x14 vs 0x11 bytes)
//     Masking cannot express this (sizes and later offsets differ), and decoding instructions to
//     map one onto the other would be a second x86 decoder. Instead, when a function's code
//     differs, the unit is compiled once more exactly as Debian compiled it (the recorded
//     command without our two KCFLAGS words; same tree source, same compiler and objtool run)
//     into WORK/as-shipped, and that object's function must equal the shipped code with only
//     rule 1 and 2 masking. It is the same proof (the tree's source yields the running code),
//     with the section flags the shipped kernel used; a wrong tree fails it as well, and the
//     refusal says that both compiles differ. The patch itself is still made from the original
//     and patched objects with -ffunction-sections, which differ from the as-shipped one only
//     in those two flags.
// Not allowed, because the real files do not need it:
//  - the ftrace site: the image still holds `call __fentry__` (above; the kernel turns it into
//    a NOP at boot), so byte 0 (e8) is compared and only the rel32 masked, as for any call.
//  - objtool's rewrites (jump-label NOPs, retpoline, return-thunk and static-call sites):
//    objtool runs on every object in the recorded Kbuild command, ours and Debian's alike, and
//    on 6.1 without IBT, LTO or NOINSTR_VALIDATION (Debian's config) it does not run on
//    vmlinux.o at all (scripts/Makefile.vmlinux_o: objtool-enabled is empty).
//  - alternatives, paravirt patching, jump labels, KASLR: applied by the kernel at boot or load;
//    the files hold the original instructions on both sides.
//  - a different size: st_size must be equal (the refusal also gives the first differing byte).
//
// Trade-offs: the as-shipped compile costs one more compile of the unit (1-20 s), only when
// something differs (on the corpus: never; in a sweep of every function of 17 cached objects:
// one unit). Masked bytes are not proved equal, so a function that differs only in the target
// of a call or data reference (kfree -> kvfree) passes; resolving every relocation by name
// against the image (as the objcompare recipe did for 8,911 relocations) would close that and
// is not done here. A tree of the wrong source almost always also changes unmasked bytes
// (offsets of struct fields, constants, code layout), but "almost" is the honest word. The
// check costs one load of the vmlinux symbol index (0.25-0.5 s; klp loads it again later; the
// index itself is built once per kernel from the -dbg package) and a page or two of the image
// per function. A `__weak`
// default that the image overrides is refused here with the reason klp gives, rather than as a
// mismatch against the override. docs/builder.md gives the false-refusal measurements.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "builder/livepatch.h"
#include "builder/profile.h"
#include "builder/units.h"
#include "core/result.h"

namespace noreboot::klp {
class ElfView;
class SymbolIndex;
}  // namespace noreboot::klp

namespace noreboot::builder {

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

// Compiles the unit once more exactly as the shipped kernel was compiled (without the builder's
// -ffunction-sections -fdata-sections) and returns the object's path.
using CompileAsShipped = std::function<Result<std::filesystem::path>()>;

// Compares FUNCTIONS (kernel names) of the original object (OBJECT, compiled from SOURCE) with
// SHIPPED; each function either counts as equal in OUT or adds a refusal. When a function's code
// differs and AS_SHIPPED is given, the unit is compiled as shipped (once) and that object's
// function is compared instead: equal there, it is accepted. An Error only for unreadable
// input (a malformed object, an unknown relocation type) or a failed compile.
Status check_unit(const klp::ElfView& object, const std::string& source, const std::vector<std::string>& functions,
                  const ShippedCode& shipped, ShippedCheck& out, const CompileAsShipped& as_shipped = {});

// The pass: every unit of DIFFS against the image and modules of PROFILE's Debian kernel.
// WORK is the build's folder (WORK/src-orig holds the sources; WORK/as-shipped gets objects).
Result<ShippedCheck> check_shipped_code(const KernelProfile& profile, const DiffSummary& diffs,
                                        const std::filesystem::path& work);

}  // namespace noreboot::builder
