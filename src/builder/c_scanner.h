// The one comment and string scanner of the header path: what of a C file's text is code.
//
// Problem: the header path reads a header's text three ways: where a function's definition
// starts and ends (header_index.h, function_span), which lines hold a struct/union/enum
// definition (header_macro.h, type_spans), and whether a changed line is only a comment
// (header_units.h, changed_lines). Each had its own scanner, and they disagreed on the lines
// where it matters: function_span followed comments on a directive line but counted the braces
// of a directive's continuation lines (`#define BEGIN \` then `{` on the next line) as code;
// type_spans skipped directive lines without looking into them, so a `/*` opened on a
// `#define` line left the comment's text to be read as code; and the changed-lines check took
// any line starting with `*` for a comment, so a changed macro line `*(p) = 0; \` was ignored
// as "comments only", a unit the fix reaches never recompiled.
//
// Approach: one pass over the lines, the C translation phases that matter here (C11 5.1.1.2):
// comments are recognised everywhere outside literals, a block comment spans lines, and a `//`
// comment or a literal that ends with a backslash continues on the next line; a directive is a
// logical line whose first character that is neither blank nor in a comment is `#`, and it
// runs until a newline that is neither escaped by a backslash nor inside a comment (so its
// continuation lines, and the lines of a comment it opened, belong to it). A literal ends at
// its closing quote or at the end of its line (an unterminated `'` in `#error don't` blanks the
// rest of that line only). The result keeps each line's length: comment characters and the
// contents of literals become spaces, the quotes stay, so a caller can count braces and
// parentheses and read keywords in `code`, and knows whether a line belongs to a directive.
// Trade-off: no trigraphs and no digraphs (the kernel uses neither), and a backslash-newline
// inside an identifier is not joined (it only splits a word; no brace or quote moves).
#pragma once

#include <string>
#include <vector>

namespace noreboot::builder {

struct CodeLine {
  std::string code;        // the line, comments and literal contents blanked (same length)
  bool directive = false;  // part of a preprocessor directive (its first line or a continuation)

  // True when the line holds anything but blanks and comments (a directive counts).
  bool has_code() const { return code.find_first_not_of(" \t\r\f\v\\") != std::string::npos; }
};

// The code of every line of TEXT (one string per line, no newlines), scanned from the first.
std::vector<CodeLine> code_lines(const std::vector<std::string>& text);

}  // namespace noreboot::builder
