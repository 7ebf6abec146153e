#include "builder/header_units.h"

#include <algorithm>
#include <optional>
#include <fstream>
#include <set>

#include "builder/c_scanner.h"
#include "builder/include_graph_cache.h"
#include "builder/steps.h"
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

}  // namespace

std::vector<LineChange> changed_lines(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Whether a line holds code is a property of the whole text (a comment or a directive may
  // start lines earlier), so each side is scanned once (c_scanner.h), and two lines are the
  // same only when their text and their meaning are: a line that a new `/*` above it turned
  // into a comment, or a new `#define X \` into a directive, is changed though its text is not.
  auto code_a = code_lines(a), code_b = code_lines(b);
  auto same = [&](size_t x, size_t y) {
    return a[x] == b[y] && code_a[x].code == code_b[y].code && code_a[x].directive == code_b[y].directive;
  };
  // Common prefix and suffix first; the middle (small for a fix) gets an LCS table.
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && same(pre, pre)) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && same(a.size() - 1 - suf, b.size() - 1 - suf)) ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = same(pre + i, pre + j) ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<LineChange> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same(pre + i, pre + j)) { ++i; ++j; continue; }
    // A run of removed and added lines: orig lines [i, i2), patched lines [j, j2).
    size_t i2 = i, j2 = j;
    bool comments = true;
    while ((i2 < n || j2 < m) && !(i2 < n && j2 < m && same(pre + i2, pre + j2))) {
      if (j2 >= m || (i2 < n && lcs[i2 + 1][j2] >= lcs[i2][j2 + 1])) comments &= !code_a[pre + i2++].has_code();
      else comments &= !code_b[pre + j2++].has_code();
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

namespace {

std::string lines_text(const std::vector<LineChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += out.empty() ? "" : ", ";
    if (c.first > c.last) out += "the lines inserted after line " + std::to_string(c.last);
    else if (c.first == c.last) out += "line " + std::to_string(c.first);
    else out += "lines " + std::to_string(c.first) + "-" + std::to_string(c.last);
  }
  return out;
}

// The type definitions a change outside every function touches (an insertion must fall
// between two lines of the definition).
std::vector<std::pair<LineChange, TypeSpan>> type_changes(const std::vector<std::string>& orig,
                                                          const std::vector<LineChange>& outside) {
  std::vector<std::pair<LineChange, TypeSpan>> out;
  auto types = type_spans(orig);
  for (const auto& c : outside)
    for (const auto& t : types) {
      if (t.first <= c.last && c.first <= t.last) out.push_back({c, t});  // (insertion: first == last + 1)
    }
  return out;
}

}  // namespace

Result<HeaderUnits> units_for_headers(const KernelProfile& profile, const fs::path& index_file,
                                      const std::vector<std::string>& headers, const fs::path& work,
                                      const MacroOptions& opts) {
  HeaderUnits out;
  NR_TRY(auto index, read_header_index(index_file, std::set<std::string>(headers.begin(), headers.end())));
  std::set<std::string> sources;
  std::optional<IncludeGraph> graph;  // read once, when a header needs it
  for (const auto& h : headers) {
    NR_TRY(auto orig, read_lines(work / "src-orig" / h));
    NR_TRY(auto patched, read_lines(work / "src-patched" / h));
    auto changes = changed_lines(orig, patched);
    auto q = query_header(index, h, orig, changes);
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
    if (!q.outside.empty()) {
      // No trace in DWARF: a type definition is refused, anything else goes to the compiler.
      auto types = type_changes(orig, q.outside);
      for (const auto& [c, t] : types)
        out.refusals.push_back({h, lines_text({c}) + " of " + h + " change the definition of " + t.name + " (lines " +
                                       std::to_string(t.first) + "-" + std::to_string(t.last) +
                                       "), not inside the body of a function: a livepatch cannot change the layout or "
                                       "meaning of data the running kernel already holds",
                                "keep the type as it is: new state goes into a shadow variable (docs/patch-author-guide.md, "
                                "Callbacks and shadow variables), or ship the change with a new kernel"});
      if (!types.empty()) continue;
      if (!graph) {
        Stopwatch t0;
        GraphCacheUse use;
        NR_TRY(auto g, include_graph_of(profile, opts.jobs, &use));
        graph = std::move(g);
        if (!use.not_trusted.empty()) log::info("[header] the cached include graph is not used: {}", use.not_trusted);
        log::info("[header] include graph of {}: {} files, {} read, {} from the cache{} ({})", profile.tree.string(),
                  graph->files.size() + graph->makefiles.size(), use.scan.read, use.scan.reused,
                  use.written ? ", cache written" : "", t0.text());
      }
      log::info("[header] {}: {} not inside a function: asking the compiler which units change", h, lines_text(q.outside));
      NR_TRY(auto reach, units_by_preprocessing(profile, index, *graph, h, lines_text(q.outside), headers, work, opts));
      for (auto& r : reach.refusals) out.refusals.push_back(std::move(r));
      for (const auto& s : reach.sources) sources.insert(s);
    }
    log::info("[header] {}: {} change(s), {} candidate unit(s){}", h, changes.size(), sources.size() - before,
              q.outside.empty() ? " in " + std::to_string(owners.size()) + " object(s)" : "");
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
