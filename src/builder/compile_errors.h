// What the author reads when a copy of a unit does not compile.
//
// Problem: the fast path runs Kbuild's recorded command line, which is
// `gcc ... -o X.o X.c ; objtool ... X.o`. When gcc failed, the shell went on to objtool, whose
// "Can't open .../patched/....o" was the last (and only visible) line, with the work folder's
// paths: nothing told the author that their fix has a syntax error on line 12, nor whether it
// was the fix or the kernel tree that failed.
//
// Approach: the command runs under `sh -e`, so it stops at gcc's failure and the log holds
// gcc's own diagnostics. compiler_excerpt() picks the part a person needs: from the first
// error (with the "In function" / "In file included from" lines that lead to it) on, at most
// 20 lines, with the copy's root (WORK/src-patched/ or WORK/src-orig/) removed so that file
// names read exactly as in the patch (fs/proc/cmdline.c:12:5: error: ...). The caller says
// which copy failed: the original (the kernel tree or its profile is broken, not the fix) or
// the patched one (the fix does not compile: a refusal, exit 3, with these lines).
// Trade-off: only the first errors are shown (later ones are often consequences of the first);
// --keep-work keeps the full logs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace noreboot::builder {

// The compiler's first error lines of LOG_TEXT (at most MAX_LINES), each indented by four
// spaces, with every occurrence of ROOT (a folder, with or without a trailing '/') removed.
// Without any "error" line: the first MAX_LINES lines.
std::string compiler_excerpt(std::string_view log_text, const std::string& root, std::size_t max_lines = 20);

}  // namespace noreboot::builder
