// x86-64 facts, in one place: relocation types (their names, field sizes, whether they are
// PC-relative) and the Linux kernel's special sections with their entry sizes.
//
// Everything architecture-specific that the ELF model and the differ need is answered here, so
// another architecture is a new arch_<name>.cc behind the same functions, not an edit in every
// pass. The special-section sizes are those of Linux 6.1 on x86-64 (struct bug_entry,
// exception_table_entry, alt_instr ... as measured from the kernel's BTF, see KERNEL-NOTES.md);
// the differ checks each section's size is a whole number of entries before it splits it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace noreboot::elf::x86_64 {

inline constexpr uint32_t R_X86_64_NONE = 0;
inline constexpr uint32_t R_X86_64_64 = 1;
inline constexpr uint32_t R_X86_64_PC32 = 2;
inline constexpr uint32_t R_X86_64_PLT32 = 4;
inline constexpr uint32_t R_X86_64_GOTPCREL = 9;
inline constexpr uint32_t R_X86_64_32 = 10;
inline constexpr uint32_t R_X86_64_32S = 11;
inline constexpr uint32_t R_X86_64_PC64 = 24;
inline constexpr uint32_t R_X86_64_GOTPCRELX = 41;
inline constexpr uint32_t R_X86_64_REX_GOTPCRELX = 42;

struct RelocInfo {
  std::string_view name;  // "R_X86_64_PC32"
  uint8_t size = 0;       // bytes of the field the relocation writes
  bool pc_relative = false;
};

// Facts about relocation type `type`; nullopt for a type the model does not know.
std::optional<RelocInfo> reloc_info(uint32_t type);

// A kernel special section: an array of fixed-size entries, each belonging to one function
// through the relocation at `anchor_offset` inside the entry (e.g. bug_entry.bug_addr_disp).
// `paired_with` names a section without relocations whose entries are parallel by index
// (.orc_unwind is to .orc_unwind_ip what values are to keys).
struct SpecialSection {
  std::string_view name;
  uint32_t entry_size = 0;
  uint32_t anchor_offset = 0;
  std::string_view paired_with;  // "" if none
  uint32_t paired_entry_size = 0;
  // A field holding the source line (struct bug_entry.line): masked when comparing, so a fix
  // that only moves lines changes nothing. 0 size: none.
  uint32_t line_offset = 0;
  uint32_t line_size = 0;
  // An entry that points at out-of-line code of a given length (alt_instr.repl_offset and
  // alt_instr.replacementlen): where the pointer field and the u8 length are. 0 size: none.
  uint32_t code_field_offset = 0;
  uint32_t code_length_offset = 0;
  uint32_t code_length_size = 0;
};

// The special sections the differ splits per function (Linux 6.1, x86-64).
std::span<const SpecialSection> special_sections();
const SpecialSection* find_special_section(std::string_view name);

// Byte offset from the start of an instruction's relocated field to the end of the
// instruction, for the usual case (no immediate after a RIP-relative displacement). The
// differ uses it to find which object a PC-relative reference means.
inline constexpr int64_t kPcRelativeBias = 4;

// Bytes of a direct call (`call rel32`): e8 + 4 bytes. The ftrace call `call __fentry__` sits at
// offset 0 of a traceable function (its relocation at offset 1); with IBT, after endbr64 (4 bytes).
inline constexpr uint64_t kFentryRelocOffset = 1;
inline constexpr uint64_t kFentryRelocOffsetAfterEndbr = 5;

}  // namespace noreboot::elf::x86_64
