#include "builder/header_units.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

Result<std::vector<std::string>> read_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::not_found, "cannot read " + file.string());
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

bool blank_or_comment(const std::string& raw) {
  size_t a = raw.find_first_not_of(" \t\r");
  if (a == std::string::npos) return true;
  std::string t = raw.substr(a);
  return t.rfind("/*", 0) == 0 || t.rfind("*", 0) == 0 || t.rfind("//", 0) == 0;
}

}  // namespace

std::vector<LineChange> changed_lines(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Common prefix and suffix first; the middle (small for a fix) gets an LCS table.
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<LineChange> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[pre + i] == b[pre + j]) { ++i; ++j; continue; }
    // A run of removed and added lines: orig lines [i, i2), patched lines [j, j2).
    size_t i2 = i, j2 = j;
    bool comments = true;
    while ((i2 < n || j2 < m) && !(i2 < n && j2 < m && a[pre + i2] == b[pre + j2])) {
      if (j2 >= m || (i2 < n && lcs[i2 + 1][j2] >= lcs[i2][j2 + 1])) comments &= blank_or_comment(a[pre + i2++]);
      else comments &= blank_or_comment(b[pre + j2++]);
    }
    LineChange c;
    c.first = static_cast<int>(pre + i + 1);
    c.last = static_cast<int>(pre + i2);  // first > last: an insertion after line `last`
    c.only_comments = comments;
    out.push_back(c);
    i = i2;
    j = j2;
  }
  return out;
}

Result<HeaderUnits> units_for_headers(const fs::path& index_file, const std::vector<std::string>& headers,
                                      const fs::path& work) {
  HeaderUnits out;
  NR_TRY(auto index, read_header_index(index_file, std::set<std::string>(headers.begin(), headers.end())));
  std::set<std::string> sources;
  for (const auto& h : headers) {
    NR_TRY(auto orig, read_lines(work / "src-orig" / h));
    NR_TRY(auto patched, read_lines(work / "src-patched" / h));
    auto changes = changed_lines(orig, patched);
    auto q = query_header(index, h, orig, changes);
    for (const auto& r : q.refusals)
      out.refusals.push_back({h, r,
                              "put the fixed code into the .c files that need it (e.g. a fixed copy of the macro or a "
                              "static helper), or ship the change with a new kernel (docs/patch-author-guide.md, Headers)"});
    for (const auto& f : q.functions) log::info("[header] {}: changed function {}", h, f);
    size_t before = sources.size();
    std::set<std::string> owners;
    size_t generated = 0;
    for (const auto& u : q.units) {
      // Kbuild's generated module metadata (foo.mod.c) and export tables (.vmlinux.export.c)
      // hold data only: no function of theirs can change, and they are built by modpost.
      std::string base = fs::path(u.source).filename().string();
      if (base.ends_with(".mod.c") || base.rfind('.', 0) == 0) {
        ++generated;
        continue;
      }
      sources.insert(u.source);
      owners.insert(u.owner);
    }
    if (generated) log::info("[header] {}: {} generated metadata unit(s) (*.mod.c: data only) left out", h, generated);
    log::info("[header] {}: {} change(s), {} candidate unit(s) in {} object(s)", h, changes.size(),
              sources.size() - before, owners.size());
  }
  out.sources.assign(sources.begin(), sources.end());
  return out;
}

Status stage_unchanged_sources(const KernelProfile& profile, const std::vector<std::string>& sources, const fs::path& work) {
  for (const char* side : {"src-orig", "src-patched"}) {
    for (const auto& s : sources) {
      fs::path to = work / side / s;
      if (fs::exists(to)) continue;
      fs::path from = profile.tree / s;
      std::error_code ec;
      if (!fs::exists(from))  // Kbuild generates some sources (*.asn1.c, capflags.c) with the object
        return Error(Errc::not_found, s + " (a unit the header index names) is not in " + profile.tree.string() +
                                          " even after Kbuild built its object: the index and the tree are not the same kernel");
      fs::create_directories(to.parent_path(), ec);
      fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
      if (ec) return Error(Errc::io, "cannot copy " + from.string() + ": " + ec.message());
    }
  }
  return ok_status();
}

}  // namespace noreboot::builder
