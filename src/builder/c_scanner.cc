#include "builder/c_scanner.h"

namespace noreboot::builder {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// A line ends with a backslash-newline (trailing blanks after it, which GCC also accepts with a
// warning, included).
bool ends_with_backslash(const std::string& s) {
  size_t end = s.size();
  while (end > 0 && is_blank(s[end - 1])) --end;
  return end > 0 && s[end - 1] == '\\';
}

}  // namespace

std::vector<CodeLine> code_lines(const std::vector<std::string>& text) {
  std::vector<CodeLine> out;
  out.reserve(text.size());
  bool in_block_comment = false;
  bool line_comment_continues = false;
  char literal_continues = 0;     // the quote of a literal continued by a backslash-newline
  bool in_directive = false;      // the current logical line is a directive
  bool at_line_start = true;      // nothing but blanks and comments yet on this logical line
  for (const std::string& s : text) {
    CodeLine line{std::string(s.size(), ' '), in_directive};
    bool line_comment = line_comment_continues;
    char quote = literal_continues;
    line_comment_continues = false;
    literal_continues = 0;
    for (size_t i = 0; i < s.size() && !line_comment; ++i) {
      char c = s[i];
      char next = i + 1 < s.size() ? s[i + 1] : '\0';
      if (in_block_comment) {
        if (c == '*' && next == '/') { in_block_comment = false; ++i; }
        continue;
      }
      if (quote) {
        if (c == '\\') { ++i; continue; }  // an escape: the next character is contents
        if (c == quote) { line.code[i] = c; quote = 0; }
        continue;
      }
      if (c == '/' && next == '*') { in_block_comment = true; ++i; continue; }
      if (c == '/' && next == '/') { line_comment = true; continue; }
      line.code[i] = c;
      if (is_blank(c)) continue;
      if (at_line_start) {
        at_line_start = false;
        if (c == '#') in_directive = line.directive = true;
      }
      if (c == '"' || c == '\'') quote = c;
    }
    bool continued = ends_with_backslash(s);
    if (quote && continued) literal_continues = quote;
    if (line_comment && continued) line_comment_continues = true;
    if (!in_block_comment && !continued) {
      in_directive = false;
      at_line_start = true;
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace noreboot::builder
