// Every refusal the differ can give: its reason and the way around it. docs/patch-author-guide.md
// lists the same texts; the shell tests match on them.
#pragma once

#include <string>
#include <string_view>

namespace noreboot::diff::refusal {

inline constexpr std::string_view kInit =
    "changed __init function: it runs only at boot or module load and its code is freed afterwards";
inline constexpr std::string_view kInitHint =
    "a livepatch cannot change code that already ran; make the fix in code that runs later, or reboot into a fixed kernel";
inline constexpr std::string_view kExit =
    "changed __exit function: module exit code is not patchable by livepatch";
inline constexpr std::string_view kExitHint =
    "make the fix in the functions the exit code calls, or reload the module";
inline constexpr std::string_view kAssembly =
    "changed assembly: livepatch can replace only C functions that start with a call to __fentry__";
inline constexpr std::string_view kAssemblyHint =
    "move the fix into a C function (for example a caller of this code), or reboot into a fixed kernel";
inline constexpr std::string_view kNoFentry =
    "function cannot be traced: no 'call __fentry__' at its entry in ORIG (notrace, noinstr or not compiled with -mfentry)";
inline constexpr std::string_view kNoFentryHint =
    "ftrace cannot redirect it; change its callers instead (a fixed copy under a new name that they call), or reboot";
inline constexpr std::string_view kData =
    "changed existing data: its initial value differs, and a livepatch cannot change data already in the running kernel";
inline constexpr std::string_view kDataHint =
    "keep the initializer unchanged and set the new value at run time (in a patched function or a livepatch callback); "
    "new state belongs in a new variable or a klp shadow variable";
inline constexpr std::string_view kLayout = "changed type layout: the size of existing data changed";
inline constexpr std::string_view kLayoutHint =
    "keep existing types unchanged; put new fields in a klp shadow variable (klp_shadow_get_or_alloc) or a new variable";
inline constexpr std::string_view kAmbiguous =
    "cannot correlate static local variable: several in ORIG have this name and none matches uniquely";
inline constexpr std::string_view kAmbiguousHint =
    "rename the variable in the fix, or make it file-scope with a unique name";
inline constexpr std::string_view kAnonymous =
    "refers to writable data without a symbol, which cannot be named in the running kernel";
inline constexpr std::string_view kAnonymousHint =
    "give the data a name (a static variable) and build with -fdata-sections";
inline constexpr std::string_view kCloneCallerUnpatchable =
    "changed compiler clone: its calling convention is GCC's own and may have changed, so the patch must "
    "redirect every caller to the new clone, but this caller cannot be patched";
inline constexpr std::string_view kCloneCallerUnpatchableHint =
    "make the fix in the callers instead of the cloned function (so the running clone stays as it is), "
    "or reboot into a fixed kernel";
inline constexpr std::string_view kCloneAddressTaken =
    "changed compiler clone whose address is stored in data: the running kernel would keep calling the old "
    "copy through it, and the new copy may expect other arguments";
inline constexpr std::string_view kCloneAddressTakenHint =
    "move the fix into a function that is not a GCC clone (the data's user or a new helper it calls), or reboot";
inline constexpr std::string_view kCloneNoCaller =
    "changed compiler clone that no patchable function of this file calls: the new copy would never run";
inline constexpr std::string_view kCloneNoCallerHint =
    "check that the fix reaches this code; make the fix in the clone's callers, or reboot into a fixed kernel";

}  // namespace noreboot::diff::refusal
