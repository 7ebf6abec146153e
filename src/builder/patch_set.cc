#include "builder/patch_set.h"

#include <sstream>

namespace noreboot::builder {

std::string_view change_kind_name(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::modified: return "modified";
    case ChangeKind::added: return "added";
    case ChangeKind::deleted: return "deleted";
    case ChangeKind::renamed: return "renamed";
  }
  return "?";
}

namespace {

// "a/fs/x.c\t2024-01-01 ..." -> "a/fs/x.c"
std::string header_path(std::string_view rest) {
  auto end = rest.find('\t');
  std::string p(rest.substr(0, end));
  // diff -u without a tab: "path  date" is rare; git never adds a date.
  while (!p.empty() && (p.back() == ' ' || p.back() == '\r')) p.pop_back();
  if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
  return p;
}

std::string strip_components(const std::string& path, int n) {
  size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    auto slash = path.find('/', pos);
    if (slash == std::string::npos) return path.substr(pos);
    pos = slash + 1;
  }
  return path.substr(pos);
}

bool safe_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  std::istringstream in(p);
  std::string part;
  while (std::getline(in, part, '/'))
    if (part == "..") return false;
  return true;
}

}  // namespace

Result<PatchSet> parse_patch(std::string_view text, std::string_view name) {
  PatchSet set;
  struct Raw { std::string old_p, new_p; int hunks = 0; int line = 0; };
  std::vector<Raw> raws;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  std::string pending_old;
  bool have_old = false;
  int old_line = 0;
  auto where = [&](int n) { return std::string(name) + ":" + std::to_string(n); };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("--- ", 0) == 0) {
      pending_old = header_path(std::string_view(line).substr(4));
      have_old = true;
      old_line = lineno;
      continue;
    }
    if (line.rfind("+++ ", 0) == 0) {
      if (!have_old) return Error(Errc::invalid_input, where(lineno) + ": '+++' line without a '---' line before it");
      raws.push_back({pending_old, header_path(std::string_view(line).substr(4)), 0, old_line});
      have_old = false;
      continue;
    }
    have_old = false;
    if (line.rfind("@@ ", 0) == 0) {
      if (raws.empty()) return Error(Errc::invalid_input, where(lineno) + ": hunk before any file header ('--- a/...' and '+++ b/...')");
      ++raws.back().hunks;
      continue;
    }
    if (line.rfind("Binary files ", 0) == 0 || line.rfind("GIT binary patch", 0) == 0)
      return Error(Errc::unsupported, where(lineno) + ": binary changes cannot be part of a kernel source fix");
    if (line.rfind("*** ", 0) == 0 && line.find("****") == std::string::npos && lineno > 1 && raws.empty())
      return Error(Errc::invalid_input, where(lineno) + ": looks like a context diff; give a unified diff (diff -u, git diff)");
  }
  if (raws.empty())
    return Error(Errc::invalid_input, std::string(name) + ": no file changes found; expected a unified diff (diff -u, git diff)");

  // Strip level: 1 when every non-/dev/null path has a leading component like a/ b/.
  bool all_prefixed = true;
  for (const auto& r : raws)
    for (const auto* p : {&r.old_p, &r.new_p})
      if (*p != "/dev/null" && p->find('/') == std::string::npos) all_prefixed = false;
  set.strip = all_prefixed ? 1 : 0;

  for (const auto& r : raws) {
    FileChange fc;
    fc.hunks = r.hunks;
    std::string o = r.old_p == "/dev/null" ? "" : strip_components(r.old_p, set.strip);
    std::string n = r.new_p == "/dev/null" ? "" : strip_components(r.new_p, set.strip);
    if (o.empty() && n.empty()) return Error(Errc::invalid_input, where(r.line) + ": both sides are /dev/null");
    if (o.empty()) { fc.kind = ChangeKind::added; fc.path = n; fc.old_path = n; }
    else if (n.empty()) { fc.kind = ChangeKind::deleted; fc.path = o; fc.old_path = o; }
    else { fc.kind = o == n ? ChangeKind::modified : ChangeKind::renamed; fc.path = n; fc.old_path = o; }
    if (!safe_path(fc.path) || !safe_path(fc.old_path))
      return Error(Errc::invalid_input, where(r.line) + ": path '" + fc.path + "' leaves the kernel tree");
    if (fc.hunks == 0 && fc.kind == ChangeKind::modified)
      return Error(Errc::invalid_input, where(r.line) + ": file " + fc.path + " has a header but no hunk ('@@ ... @@')");
    bool merged = false;
    for (auto& f : set.files)
      if (f.path == fc.path) { f.hunks += fc.hunks; merged = true; }
    if (!merged) set.files.push_back(fc);
  }
  return set;
}

}  // namespace noreboot::builder
