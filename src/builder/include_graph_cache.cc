#include "builder/include_graph_cache.h"

#include <charconv>
#include <chrono>
#include <optional>

#include "builder/compile.h"
#include "core/bytes.h"
#include "core/file_io.h"
#include "core/file_lock.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

std::string flags_of(const IncludeEdge& e) {
  std::string f;
  if (e.quoted) f += 'q';
  if (e.name_only) f += 'n';
  return f.empty() ? "-" : f;
}

void stamped(std::string& out, char kind, const FileStamp& s, const std::string& path) {
  out += kind;
  out += ' ';
  out += std::to_string(s.mtime_ns);
  out += ' ';
  out += std::to_string(s.size);
  out += ' ';
  out += path;
  out += '\n';
}

// "NUMBER " at the front of V, consumed.
template <typename T>
bool take_number(std::string_view& v, T& n) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p == v.data() + v.size() || *p != ' ') return false;
  v.remove_prefix(static_cast<size_t>(p - v.data()) + 1);
  return true;
}

}  // namespace

std::string include_graph_text(const IncludeGraph& g, const std::string& key) {
  std::string out;
  out.reserve(g.files.size() * 200);
  out += kIncludeGraphMagic;
  out += "\nkey " + key + "\n";
  size_t files = 0, edges = 0;
  for (size_t k = 0; k < g.files.size() && k < g.stamps.size() && k < g.edges.size(); ++k) {
    if (g.files[k].find('\n') != std::string::npos) continue;  // not recordable: read again next time
    stamped(out, 'f', g.stamps[k], g.files[k]);
    ++files;
    for (const auto& e : g.edges[k]) {
      out += "e " + flags_of(e) + " " + e.spelled + "\n";
      ++edges;
    }
  }
  size_t makefiles = 0;
  for (const auto& m : g.makefiles) {
    if (m.path.find('\n') != std::string::npos) continue;
    stamped(out, 'm', m.stamp, m.path);
    ++makefiles;
    for (const auto& n : m.names) out += "i " + n + "\n";
  }
  std::string sum = sha256_hex(out);
  out += "end " + std::to_string(files) + " " + std::to_string(edges) + " " + std::to_string(makefiles) + " " + sum + "\n";
  return out;
}

Result<IncludeGraph> parse_include_graph(const std::string& text, const std::string& key, const std::string& what) {
  IncludeGraph g;
  size_t pos = 0, lineno = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) return false;  // a last line without its newline: truncated
    line = std::string_view(text).substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    return true;
  };
  auto bad = [&](const std::string& why) {
    return Error(Errc::invalid_input, what + ":" + std::to_string(lineno) + ": " + why);
  };
  std::string_view line;
  if (!next_line(line) || line != kIncludeGraphMagic)
    return bad(std::string("not an include graph of this noreboot (first line is not '") + kIncludeGraphMagic + "')");
  if (!next_line(line) || line != "key " + key) return bad("recorded for another tree (its key is not '" + key + "')");
  size_t edges = 0;
  bool in_makefile = false;
  while (next_line(line)) {
    if (line.rfind("end ", 0) == 0) {
      std::string totals =
          "end " + std::to_string(g.files.size()) + " " + std::to_string(edges) + " " + std::to_string(g.makefiles.size());
      if (line.substr(0, line.rfind(' ')) != totals) return bad("its totals do not match its records ('" + std::string(line) + "')");
      size_t end_at = static_cast<size_t>(line.data() - text.data());
      if (line.substr(line.rfind(' ') + 1) != sha256_hex(std::string_view(text).substr(0, end_at)))
        return bad("its checksum does not match its records (a corrupt file)");
      if (pos != text.size()) return bad("records after the end");
      for (const auto& m : g.makefiles)
        for (auto& f : forced_includes_of(m.path, m.names)) g.forced.push_back(std::move(f));
      return g;
    }
    if (line.size() < 2 || line[1] != ' ') return bad("unreadable record");
    char kind = line[0];
    std::string_view v = line.substr(2);
    if (kind == 'f' || kind == 'm') {
      FileStamp s;
      if (!take_number(v, s.mtime_ns) || !take_number(v, s.size) || v.empty()) return bad("unreadable file record");
      if (kind == 'f') {
        g.files.emplace_back(v);
        g.stamps.push_back(s);
        g.edges.emplace_back();
      } else {
        g.makefiles.push_back({std::string(v), s, {}});
      }
      in_makefile = kind == 'm';
    } else if (kind == 'e') {
      if (g.files.empty() || in_makefile) return bad("a directive outside a file record");
      auto sp = v.find(' ');
      if (sp == std::string_view::npos || sp == 0 || sp + 1 >= v.size()) return bad("unreadable directive");
      IncludeEdge e;
      for (char f : v.substr(0, sp)) {
        if (f == 'q') e.quoted = true;
        else if (f == 'n') e.name_only = true;
        else if (f != '-') return bad("unknown directive flag");
      }
      e.spelled = std::string(v.substr(sp + 1));
      g.edges.back().push_back(std::move(e));
      ++edges;
    } else if (kind == 'i') {
      if (!in_makefile || v.empty()) return bad("a forced include outside a Makefile record");
      g.makefiles.back().names.emplace_back(v);
    } else {
      return bad(std::string("unknown record '") + kind + "'");
    }
  }
  return Error(Errc::invalid_input, what + " is incomplete (no 'end' record)");
}

Result<IncludeGraph> load_or_scan_include_graph(const fs::path& tree, const fs::path& cache, const std::string& key,
                                                int jobs, GraphCacheUse* use) {
  GraphCacheUse local;
  GraphCacheUse& u = use ? *use : local;
  u = {};
  std::optional<IncludeGraph> earlier;
  if (fs::exists(cache)) {
    auto text = read_text(cache);
    auto parsed = text.ok() ? parse_include_graph(*text, key, cache.string()) : Result<IncludeGraph>(text.error());
    if (parsed.ok()) {
      earlier = std::move(*parsed);
      u.cached = true;
    } else {
      u.not_trusted = parsed.error().message();
    }
  }
  NR_TRY(auto g, scan_include_graph(tree, jobs, earlier ? &*earlier : nullptr, &u.scan));
  if (!u.cached || u.scan.read > 0) {
    NR_TRY_STATUS(write_text(cache, include_graph_text(g, key)));
    u.written = true;
  }
  return g;
}

Result<IncludeGraph> include_graph_of(const KernelProfile& profile, int jobs, GraphCacheUse* use) {
  fs::path lock_file = tree_lock_path(profile);
  fs::path kdir = profile.tree.parent_path();
  if (lock_file != kdir / ".tree.lock") {
    // Not a cached, prepared tree: nothing says it is the same next time.
    if (use) *use = {};
    return scan_include_graph(profile.tree, jobs, nullptr, use ? &use->scan : nullptr);
  }
  NR_TRY(auto lock, FileLock::acquire(lock_file, {.holder = "noreboot-build", .why = "reading the tree's include graph"}));
  fs::path done = kdir / "tree.done";
  NR_TRY(auto stamp, read_text(done));
  std::error_code ec;
  auto mtime = fs::last_write_time(done, ec);
  if (ec) return Error(Errc::io, "cannot read " + done.string() + ": " + ec.message());
  while (!stamp.empty() && (stamp.back() == '\n' || stamp.back() == ' ')) stamp.pop_back();
  for (char& c : stamp)
    if (c == '\n') c = ' ';
  std::string key = profile.tree.string() + "|" + stamp + "|" +
                    std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count());
  return load_or_scan_include_graph(profile.tree, kdir / "include-graph", key, jobs, use);
}

}  // namespace noreboot::builder
