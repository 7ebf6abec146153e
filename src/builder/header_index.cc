#include "builder/header_index.h"

#include <algorithm>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>

namespace noreboot::builder {
namespace fs = std::filesystem;

HeaderIndexWriter::HeaderIndexWriter(std::ostream& out) : out_(out) { out_ << kHeaderIndexMagic << "\n"; }

size_t HeaderIndexWriter::header_id(const std::string& header) {
  auto [it, fresh] = ids_.try_emplace(header, ids_.size());
  if (fresh) out_ << "h " << it->second << " " << header << "\n";
  return it->second;
}

void HeaderIndexWriter::unit(const std::string& owner, const std::string& source) {
  out_ << "u " << owner << " " << source << "\n";
  ++units_;
}

void HeaderIndexWriter::function(const std::string& header, int line, const std::string& name) {
  size_t id = header_id(header);
  out_ << "f " << id << " " << line << " " << name << "\n";
  ++funcs_;
}

void HeaderIndexWriter::lines(const std::string& header, int first, int last) {
  size_t id = header_id(header);
  out_ << "l " << id << " " << first << " " << last << "\n";
  ++runs_;
}

void HeaderIndexWriter::finish() { out_ << "end " << units_ << " " << funcs_ << " " << runs_ << "\n"; }

Result<HeaderIndex> read_header_index(std::istream& in, const std::set<std::string>& wanted, const std::string& what) {
  HeaderIndex index;
  std::string line;
  if (!std::getline(in, line) || line != kHeaderIndexMagic)
    return Error(Errc::invalid_input, what + " is not a header index (first line is not '" + kHeaderIndexMagic +
                                          "'); delete it and it is built again");
  std::map<size_t, HeaderFacts*> facts_of;  // header ID -> facts, for wanted headers only
  bool ended = false;
  size_t lineno = 1;
  auto bad = [&](const std::string& why) {
    return Error(Errc::invalid_input, what + ":" + std::to_string(lineno) + ": " + why + "; delete the file and it is built again");
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.size() < 2 || line[1] != ' ') {
      if (line.rfind("end ", 0) == 0) { ended = true; break; }
      return bad("unreadable record");
    }
    char kind = line[0];
    if (kind == 'u') {
      auto sp = line.find(' ', 2);
      if (sp == std::string::npos) return bad("unit without a source");
      index.units.push_back({line.substr(2, sp - 2), line.substr(sp + 1)});
      continue;
    }
    // h, f and l start with a header ID.
    const char* p = line.c_str() + 2;
    char* endp = nullptr;
    size_t id = std::strtoul(p, &endp, 10);
    if (endp == p || *endp != ' ') return bad("record without a header number");
    if (kind == 'h') {
      std::string path = endp + 1;
      if (wanted.count(path)) facts_of[id] = &index.headers[path];
      continue;
    }
    auto it = facts_of.find(id);
    if (it == facts_of.end()) continue;  // a header nobody asked about
    if (index.units.empty()) return bad("record before any unit");
    size_t unit = index.units.size() - 1;
    p = endp + 1;
    long a = std::strtol(p, &endp, 10);
    if (endp == p || *endp != ' ') return bad("record without a line number");
    if (kind == 'f') {
      std::string name = endp + 1;
      auto& fn = it->second->functions[{static_cast<int>(a), name}];
      fn.name = name;
      fn.line = static_cast<int>(a);
      fn.units.insert(unit);
    } else if (kind == 'l') {
      p = endp + 1;
      long b = std::strtol(p, &endp, 10);
      if (endp == p) return bad("line run without an end");
      it->second->runs.push_back({static_cast<int>(a), static_cast<int>(b), unit});
    } else {
      return bad(std::string("unknown record '") + kind + "'");
    }
  }
  if (!ended) return Error(Errc::invalid_input, what + " is incomplete (no 'end' record: its writer was killed); delete it and it is built again");
  for (const auto& w : wanted) index.headers.try_emplace(w);
  return index;
}

Result<HeaderIndex> read_header_index(const fs::path& file, const std::set<std::string>& wanted) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::not_found, "cannot read " + file.string());
  return read_header_index(in, wanted, file.string());
}

namespace {

// True when a line ends the top-level item before it or is not part of a declaration: a
// directive, a line without code (blank or comments only), or code ending with ';' or '}'.
bool ends_previous_item(const CodeLine& line) {
  if (line.directive) return true;
  size_t last = line.code.find_last_not_of(" \t\r\f\v");
  if (last == std::string::npos) return true;
  return line.code[last] == ';' || line.code[last] == '}';
}

}  // namespace

FunctionSpan function_span(const std::vector<std::string>& text, const std::string& name, int decl_line) {
  return function_span(text, code_lines(text), name, decl_line);
}

FunctionSpan function_span(const std::vector<std::string>& text, const std::vector<CodeLine>& code,
                           const std::string& name, int decl_line) {
  FunctionSpan span{name, decl_line, 0, 0};
  if (decl_line < 1 || decl_line > static_cast<int>(text.size()) || code.size() != text.size()) return span;
  // The name must be on its line, else the header is not the one DWARF describes.
  if (text[decl_line - 1].find(name) == std::string::npos) return span;
  // Scan the code from the name (c_scanner.h: comments and literals blanked): the body is the
  // first '{' at parenthesis depth 0; a ';' first means a prototype. Directive lines (an #if
  // inside a body, a #define's continuation lines) hold no braces of the function.
  int paren = 0, brace = 0;
  bool body = false;
  for (size_t ln = static_cast<size_t>(decl_line - 1); ln < code.size(); ++ln) {
    if (code[ln].directive) continue;
    for (char c : code[ln].code) {
      if (c == '(') ++paren;
      else if (c == ')') --paren;
      else if (c == ';' && !body && paren == 0) return span;  // a prototype
      else if (c == '{' && paren == 0) { body = true; ++brace; }
      else if (c == '}' && body) {
        if (--brace == 0) {
          span.last = static_cast<int>(ln) + 1;
          int first = decl_line;
          while (first > 1 && !ends_previous_item(code[first - 2])) --first;
          span.first = first;
          return span;
        }
      }
    }
  }
  return span;  // no end: not a definition we can delimit
}

HeaderQuery query_header(const HeaderIndex& index, const std::string& header, const std::vector<std::string>& text,
                         const std::vector<LineChange>& changes) {
  HeaderQuery q;
  auto facts_it = index.headers.find(header);
  static const HeaderFacts kNone;
  const HeaderFacts& facts = facts_it == index.headers.end() ? kNone : facts_it->second;
  std::vector<std::pair<FunctionSpan, const HeaderFacts::Function*>> spans;
  auto code = code_lines(text);
  for (const auto& [key, fn] : facts.functions) {
    FunctionSpan s = function_span(text, code, fn.name, fn.line);
    if (s.first > 0) spans.push_back({s, &fn});
  }
  auto range_text = [](int a, int b) { return a == b ? "line " + std::to_string(a) : "lines " + std::to_string(a) + "-" + std::to_string(b); };
  for (const auto& c : changes) {
    int lo = c.first <= c.last ? c.first : c.last, hi = c.first <= c.last ? c.last : c.first;
    bool insertion = c.first > c.last;
    bool inside = false;
    for (const auto& [s, fn] : spans) {
      // A replacement hits a function when it overlaps its definition, and is fully explained
      // by it when contained; an insertion must have both neighbouring lines inside.
      bool hits = s.first <= hi && lo <= s.last;
      if (!hits) continue;
      if (s.first <= lo && hi <= s.last) inside = true;
      for (size_t u : fn->units) q.units.insert(index.units[u]);
      std::string f = s.name + " (" + range_text(s.first, s.last) + ")";
      if (std::find(q.functions.begin(), q.functions.end(), f) == q.functions.end()) q.functions.push_back(f);
    }
    // Line rows in the changed lines (a change that replaces lines: their rows; an insertion:
    // rows of the neighbouring lines).
    for (const auto& r : facts.runs)
      if (r.first <= hi && lo <= r.last) q.units.insert(index.units[r.unit]);
    if (!inside && !c.only_comments) {
      q.outside.push_back(c);
      bool one = !insertion && c.first == c.last;
      std::string where = insertion ? "the lines inserted after line " + std::to_string(c.last)
                                    : range_text(c.first, c.last);
      q.refusals.push_back(where + " of " + header + (one ? " is" : " are") +
                           " not inside the body of a function the kernel's debug information knows "
                           "(a macro, type, enum, declaration or data): such a change leaves no trace in DWARF, "
                           "so the units it reaches cannot be found exactly");
    }
  }
  return q;
}

}  // namespace noreboot::builder
