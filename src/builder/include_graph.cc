#include "builder/include_graph.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A directive line's keyword and the rest: "#  include <x>" -> ("include", "<x>").
bool directive(const std::string& line, std::string& keyword, std::string& rest) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (i >= line.size() || line[i] != '#') return false;
  ++i;
  while (i < line.size() && is_space(line[i])) ++i;
  size_t k = i;
  while (i < line.size() && is_ident(line[i])) ++i;
  keyword = line.substr(k, i - k);
  while (i < line.size() && is_space(line[i])) ++i;
  rest = line.substr(i);
  return true;
}

// "<x>" or "\"x\"" at the start of REST: the name and whether it was quoted.
bool delimited_name(const std::string& rest, std::string& name, bool& quoted) {
  if (rest.empty() || (rest[0] != '"' && rest[0] != '<')) return false;
  char close = rest[0] == '"' ? '"' : '>';
  auto end = rest.find(close, 1);
  if (end == std::string::npos || end == 1) return false;
  name = rest.substr(1, end - 1);
  quoted = close == '"';
  return true;
}

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool is_makefile(const std::string& name) {
  return name == "Makefile" || name == "Kbuild" || name.rfind("Makefile.", 0) == 0 || name.ends_with(".mk");
}

bool is_c_text(const std::string& name) {
  return name.ends_with(".c") || name.ends_with(".h") || name.ends_with(".S") || name.ends_with(".inc");
}

}  // namespace

std::vector<IncludeEdge> scan_include_edges(const std::string& text) {
  std::vector<IncludeEdge> out;
  size_t pos = 0;
  std::string keyword, rest;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    // Cheap filter: only lines with a '#' can be directives.
    if (text.find('#', pos) < end) {
      std::string line = text.substr(pos, end - pos);
      if (directive(line, keyword, rest)) {
        IncludeEdge e;
        if (keyword == "include" || keyword == "include_next") {
          if (delimited_name(rest, e.spelled, e.quoted)) {
            e.name_only = e.spelled.find("..") != std::string::npos;
            out.push_back(e);
          }
          // A computed include (#include MACRO(...)) is covered by the definitions below.
        } else if (keyword == "define") {
          size_t i = 0;
          while (i < rest.size() && is_ident(rest[i])) ++i;
          std::string name = rest.substr(0, i);
          while (i < rest.size() && is_space(rest[i])) ++i;
          std::string value = rest.substr(i);
          if (delimited_name(value, e.spelled, e.quoted)) {
            // #define FOO_INCLUDE_FILE <linux/drbd_genl.h>: any file that expands FOO may include it.
            if (e.spelled.find('.') != std::string::npos) {
              e.name_only = e.spelled.find("..") != std::string::npos;
              out.push_back(e);
            }
          } else if (name == "TRACE_INCLUDE_FILE" || name == "TRACE_SYSTEM") {
            size_t j = 0;
            while (j < value.size() && (is_ident(value[j]) || value[j] == '-')) ++j;
            if (j > 0) out.push_back({value.substr(0, j) + ".h", true, true});
          }
        }
      }
    }
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> scan_forced_includes(const std::string& text) {
  std::vector<std::string> out;
  for (const char* opt : {"-include", "-imacros"}) {
    std::string o = opt;
    for (size_t at = text.find(o); at != std::string::npos; at = text.find(o, at + o.size())) {
      // An option, not make's own "-include FILE" directive (at the start of a line).
      if (at == 0 || text[at - 1] == '\n') continue;
      if (at > 0 && !is_space(text[at - 1]) && text[at - 1] != '=' && text[at - 1] != '"' && text[at - 1] != '\'') continue;
      size_t i = at + o.size();
      if (i >= text.size() || !is_space(text[i])) continue;
      while (i < text.size() && is_space(text[i])) ++i;
      size_t j = i;
      while (j < text.size() && !is_space(text[j]) && text[j] != '\n' && text[j] != '"' && text[j] != '\'') ++j;
      std::string arg = text.substr(i, j - i);
      if (!arg.empty()) out.push_back(base_name(arg));
    }
  }
  return out;
}

std::vector<ForcedInclude> forced_includes_of(const std::string& path, const std::vector<std::string>& names) {
  // scripts/Makefile.lib and .build hold the flags of every unit's compile.
  std::string dir = path.rfind("scripts/", 0) == 0 ? "" : fs::path(path).parent_path().string();
  std::vector<ForcedInclude> out;
  for (const auto& n : names) out.push_back({dir, n, path});
  return out;
}

namespace {

FileStamp stamp_of(const fs::directory_entry& entry, std::error_code& ec) {
  FileStamp s;
  s.size = entry.file_size(ec);
  if (ec) return s;
  auto t = entry.last_write_time(ec);
  // As Unix time (libstdc++'s file_clock has another epoch), so the record reads like `stat`.
  s.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::file_clock::to_sys(t).time_since_epoch()).count();
  return s;
}

}  // namespace

Result<IncludeGraph> scan_include_graph(const fs::path& tree, int jobs, const IncludeGraph* earlier, GraphScanStats* stats) {
  IncludeGraph g;
  GraphScanStats local;
  GraphScanStats& st = stats ? *stats : local;
  st = {};
  std::unordered_map<std::string, size_t> earlier_file, earlier_makefile;  // path -> index in EARLIER
  if (earlier) {
    for (size_t k = 0; k < earlier->files.size() && k < earlier->stamps.size(); ++k) earlier_file[earlier->files[k]] = k;
    for (size_t k = 0; k < earlier->makefiles.size(); ++k) earlier_makefile[earlier->makefiles[k].path] = k;
  }
  std::vector<std::pair<std::string, FileStamp>> makefiles;
  std::unordered_map<std::string, std::vector<std::string>> by_name;  // file name -> paths (not read yet)
  std::error_code ec;
  fs::recursive_directory_iterator it(tree, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return Error(Errc::io, "cannot read the kernel tree " + tree.string() + ": " + ec.message());
  size_t root_len = tree.string().size() + 1;
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(Errc::io, "cannot read the kernel tree " + tree.string() + ": " + ec.message());
    const fs::path& p = it->path();
    std::string rel = p.string().substr(root_len);
    if (it->is_directory(ec)) {
      // Not kernel code, and never on a unit's include path.
      if (it.depth() == 0 && (rel == "Documentation" || rel == "tools" || rel == ".git")) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    g.exists.insert(rel);
    std::string name = p.filename().string();
    bool makefile = is_makefile(name), c_text = !makefile && is_c_text(name);
    FileStamp stamp;
    if (makefile || c_text) {
      stamp = stamp_of(*it, ec);
      if (ec) return Error(Errc::io, "cannot read the kernel tree: " + p.string() + ": " + ec.message());
    }
    if (makefile) makefiles.push_back({rel, stamp});
    else if (c_text) {
      g.files.push_back(rel);
      g.stamps.push_back(stamp);
    } else {
      by_name[name].push_back(rel);
    }
  }
  // Read every C file; then the other files some directive names (foo.uc, bar.x), until none is new.
  auto read_all = [&](size_t from) {
    g.edges.resize(g.files.size());
    std::vector<size_t> to_read;
    for (size_t k = from; k < g.files.size(); ++k) {
      auto e = earlier_file.find(g.files[k]);
      if (e != earlier_file.end() && earlier->stamps[e->second] == g.stamps[k]) {
        g.edges[k] = earlier->edges[e->second];
        ++st.reused;
      } else {
        to_read.push_back(k);
      }
    }
    st.read += to_read.size();
    std::atomic<size_t> next{0};
    auto worker = [&] {
      std::string text;
      for (size_t n = next++; n < to_read.size(); n = next++) {
        size_t k = to_read[n];
        if (!read_file(tree / g.files[k], text)) continue;
        g.edges[k] = scan_include_edges(text);
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < std::max(1, jobs); ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  };
  size_t done = 0;
  while (done < g.files.size()) {
    size_t from = done;
    read_all(from);
    done = g.files.size();
    for (size_t k = from; k < done; ++k)
      for (const auto& e : g.edges[k]) {
        auto n = by_name.find(base_name(e.spelled));
        if (n == by_name.end()) continue;
        for (auto& f : n->second) {
          // Named by a directive: read like C text, so stamped like it.
          std::error_code sec;
          FileStamp stamp = stamp_of(fs::directory_entry(tree / f), sec);
          if (sec) return Error(Errc::io, "cannot read the kernel tree: " + (tree / f).string() + ": " + sec.message());
          g.files.push_back(f);
          g.stamps.push_back(stamp);
        }
        by_name.erase(n);
      }
  }
  for (const auto& [m, stamp] : makefiles) {
    ScannedMakefile sm{m, stamp, {}};
    auto e = earlier_makefile.find(m);
    if (e != earlier_makefile.end() && earlier->makefiles[e->second].stamp == stamp) {
      sm.names = earlier->makefiles[e->second].names;
      ++st.reused;
    } else {
      std::string text;
      ++st.read;
      if (!read_file(tree / m, text)) continue;
      sm.names = scan_forced_includes(text);
    }
    for (auto& f : forced_includes_of(m, sm.names)) g.forced.push_back(std::move(f));
    g.makefiles.push_back(std::move(sm));
  }
  return g;
}

bool edge_may_reach(const IncludeGraph& g, const std::string& from, const IncludeEdge& e, const std::string& target) {
  if (base_name(e.spelled) != base_name(target)) return false;
  if (e.name_only) return true;
  if (e.quoted) {
    std::string dir = fs::path(from).parent_path().string();
    std::string next_to = fs::path(dir.empty() ? e.spelled : dir + "/" + e.spelled).lexically_normal().string();
    if (g.exists.count(next_to)) return next_to == target;  // found next to FROM: that file and no other
  }
  return target == e.spelled || target.ends_with("/" + e.spelled);
}

Reach files_reaching(const IncludeGraph& g, const std::string& header) {
  // Reverse edges by the included name: who names a file called N.
  std::unordered_map<std::string, std::vector<std::pair<size_t, size_t>>> naming;  // name -> (file, edge)
  for (size_t f = 0; f < g.files.size(); ++f)
    for (size_t e = 0; e < g.edges[f].size(); ++e) naming[base_name(g.edges[f][e].spelled)].push_back({f, e});
  Reach r;
  std::deque<std::string> todo{header};
  r.files.insert(header);
  std::unordered_set<size_t> forced_hit;
  while (!todo.empty()) {
    std::string t = todo.front();
    todo.pop_front();
    std::string name = base_name(t);
    for (size_t k = 0; k < g.forced.size(); ++k)
      if (g.forced[k].name == name && forced_hit.insert(k).second) r.forced.push_back(g.forced[k]);
    auto n = naming.find(name);
    if (n == naming.end()) continue;
    for (auto [f, e] : n->second) {
      const std::string& from = g.files[f];
      if (r.files.count(from)) continue;
      if (!edge_may_reach(g, from, g.edges[f][e], t)) continue;
      r.files.insert(from);
      todo.push_back(from);
    }
  }
  // A forced include reaches every file under its folder.
  for (const auto& fi : r.forced)
    for (const auto& f : g.files)
      if (fi.dir.empty() || f.rfind(fi.dir + "/", 0) == 0) r.files.insert(f);
  return r;
}

}  // namespace noreboot::builder
