// Which translation units a fix touches, and what each one belongs to.
//
// Problem: a livepatch is made per object (vmlinux, or one module), from the functions of the
// compile units the fix changes. Every touched unit must be found, and each must be placed in
// vmlinux or in the right module: the module's name becomes the livepatch object name.
//
// Approach: classify every file of the patch. A modified .c file is a unit. A modified header
// is listed: the units it reaches come from the kernel's header index once the fix is staged
// (header_units.h: units that carry a debug entry of a changed function, plus line-table
// rows; see docs/builder.md). Assembly, build files and
// added/removed sources are refused with their reason; documentation and userspace tools are
// reported and ignored (they are not in the running kernel).
// Ownership comes from Kbuild itself: after a compile, `.foo.o.cmd` records the exact command,
// with `-DMODULE` and `-DKBUILD_MODNAME=` for module objects; the module must then be one the
// kernel ships (modules.order of the image), else the object is not built for this kernel.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/patch_set.h"
#include "core/result.h"

namespace noreboot::builder {

// One refused change, printed as "refused: WHAT: REASON\n  what to do: TODO".
struct Refusal {
  std::string what;    // a file or function
  std::string reason;
  std::string todo;
};

struct Unit {
  std::string source;  // fs/proc/cmdline.c (relative to the tree)
  std::string object;  // fs/proc/cmdline.o
  std::string owner;   // "vmlinux" or the module name (KBUILD_MODNAME, '-' as '_')
  bool in_module = false;
  std::string command; // the recorded compile command (shell text), tree-relative paths
};

struct TouchedFiles {
  std::vector<std::string> sources;   // modified .c files, in patch order
  std::vector<std::string> headers;   // modified .h files, in patch order
  std::vector<std::string> ignored;   // "path: why" for files that are not kernel code
  std::vector<Refusal> refusals;
};

TouchedFiles classify_files(const PatchSet& patch);

// The recorded command of OBJECT from TREE/dir/.name.o.cmd, with make's escaping ($$, \#)
// undone. not_found when Kbuild has not compiled the object yet.
Result<std::string> read_recorded_command(const std::filesystem::path& tree, const std::string& object);

// Fills owner/in_module from the recorded command. MODULES_ORDER (may be empty: not checked)
// is the image's modules.order; a module object of a module the kernel does not ship is an
// error naming it.
Status resolve_owner(Unit& unit, const std::filesystem::path& modules_order);

// "fs/proc/cmdline.c" -> "fs/proc/cmdline.o"; "fs/proc/.cmdline.o.cmd"
std::string object_of(const std::string& source);
std::string cmd_file_of(const std::string& object);

std::string format_refusal(const Refusal& r);

}  // namespace noreboot::builder
