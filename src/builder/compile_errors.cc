// See compile_errors.h.
#include "builder/compile_errors.h"

#include <vector>

namespace noreboot::builder {

namespace {

// A line that leads to the diagnostic after it (printed by gcc just before it).
bool is_context_line(std::string_view line) {
  return line.starts_with("In file included from ") || line.starts_with("                 from ") ||
         line.find(": In function ") != std::string_view::npos ||
         line.find(": In member function ") != std::string_view::npos ||
         line.find(": At top level:") != std::string_view::npos;
}

bool is_error_line(std::string_view line) {
  return line.find(": error: ") != std::string_view::npos || line.find(": fatal error: ") != std::string_view::npos ||
         line.starts_with("error: ");
}

void remove_all(std::string& s, const std::string& what) {
  if (what.empty()) return;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) s.erase(at, what.size());
}

}  // namespace

std::string compiler_excerpt(std::string_view log_text, const std::string& root, std::size_t max_lines) {
  std::string prefix = root;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  std::vector<std::string> lines;
  for (size_t at = 0; at < log_text.size();) {
    size_t end = log_text.find('\n', at);
    if (end == std::string_view::npos) end = log_text.size();
    std::string line(log_text.substr(at, end - at));
    remove_all(line, prefix);
    lines.push_back(std::move(line));
    at = end + 1;
  }
  size_t first = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_error_line(lines[i])) {
      first = i;
      while (first > 0 && is_context_line(lines[first - 1])) --first;
      break;
    }
  std::string out;
  for (size_t i = first; i < lines.size() && i < first + max_lines; ++i) out += "    " + lines[i] + "\n";
  if (lines.size() > first + max_lines)
    out += "    ... (" + std::to_string(lines.size() - first - max_lines) + " more line(s))\n";
  return out;
}

}  // namespace noreboot::builder
