#include "elf/arch_x86_64.h"

#include <array>

namespace noreboot::elf::x86_64 {

std::optional<RelocInfo> reloc_info(uint32_t type) {
  switch (type) {
    case 0: return RelocInfo{"R_X86_64_NONE", 0, false};
    case 1: return RelocInfo{"R_X86_64_64", 8, false};
    case 2: return RelocInfo{"R_X86_64_PC32", 4, true};
    case 3: return RelocInfo{"R_X86_64_GOT32", 4, false};
    case 4: return RelocInfo{"R_X86_64_PLT32", 4, true};
    case 9: return RelocInfo{"R_X86_64_GOTPCREL", 4, true};
    case 10: return RelocInfo{"R_X86_64_32", 4, false};
    case 11: return RelocInfo{"R_X86_64_32S", 4, false};
    case 12: return RelocInfo{"R_X86_64_16", 2, false};
    case 13: return RelocInfo{"R_X86_64_PC16", 2, true};
    case 14: return RelocInfo{"R_X86_64_8", 1, false};
    case 15: return RelocInfo{"R_X86_64_PC8", 1, true};
    case 19: return RelocInfo{"R_X86_64_TLSGD", 4, true};
    case 20: return RelocInfo{"R_X86_64_TLSLD", 4, true};
    case 21: return RelocInfo{"R_X86_64_DTPOFF32", 4, false};
    case 22: return RelocInfo{"R_X86_64_GOTTPOFF", 4, true};
    case 23: return RelocInfo{"R_X86_64_TPOFF32", 4, false};
    case 24: return RelocInfo{"R_X86_64_PC64", 8, true};
    case 25: return RelocInfo{"R_X86_64_GOTOFF64", 8, false};
    case 26: return RelocInfo{"R_X86_64_GOTPC32", 4, true};
    case 32: return RelocInfo{"R_X86_64_SIZE32", 4, false};
    case 33: return RelocInfo{"R_X86_64_SIZE64", 8, false};
    case 41: return RelocInfo{"R_X86_64_GOTPCRELX", 4, true};
    case 42: return RelocInfo{"R_X86_64_REX_GOTPCRELX", 4, true};
    default: return std::nullopt;
  }
}

namespace {
// Entry layouts (Linux 6.1, x86-64), anchor = the field that points at the function's code:
//   struct bug_entry { int bug_addr_disp; int file_disp; u16 line; u16 flags; }        12
//   struct exception_table_entry { int insn, fixup, data; }                             12
//   struct alt_instr { s32 instr_offset, repl_offset; u16 cpuid; u8 instrlen, replen; } 12
//   struct jump_entry { s32 code; s32 target; long key; }                               16
//   struct static_call_site { s32 addr; s32 key; }                                       8
//   .orc_unwind_ip: s32 per entry; .orc_unwind: struct orc_entry (6 bytes), same index
//   .retpoline_sites / .return_sites / .call_sites / .ibt_endbr_seal / .smp_locks: s32
//   struct paravirt_patch_site { u8 *instr; u8 type; u8 len; }                          16
//   __mcount_loc: one 64-bit absolute address per ftrace call site
constexpr std::array<SpecialSection, 13> kSpecial = {{
    {"__bug_table", 12, 0, "", 0, 8, 2},
    {"__ex_table", 12, 0, "", 0},
    {".altinstructions", 12, 0, "", 0, 0, 0, 4, 11, 1},
    {"__jump_table", 16, 0, "", 0},
    {".static_call_sites", 8, 0, "", 0},
    {".orc_unwind_ip", 4, 0, ".orc_unwind", 6},
    {".retpoline_sites", 4, 0, "", 0},
    {".return_sites", 4, 0, "", 0},
    {".call_sites", 4, 0, "", 0},
    {".ibt_endbr_seal", 4, 0, "", 0},
    {".smp_locks", 4, 0, "", 0},
    {".parainstructions", 16, 0, "", 0},
    {"__mcount_loc", 8, 0, "", 0},
}};
}  // namespace

std::span<const SpecialSection> special_sections() { return kSpecial; }

const SpecialSection* find_special_section(std::string_view name) {
  for (const auto& s : kSpecial)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace noreboot::elf::x86_64
