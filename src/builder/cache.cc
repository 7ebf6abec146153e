#include "builder/cache.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include "core/file_lock.h"
#include "builder/profile.h"
#include "core/file_io.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

std::uintmax_t size_of(const fs::path& p) {
  std::error_code ec;
  if (fs::is_symlink(p, ec)) return 0;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  std::uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

std::string human(std::uintmax_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GB", bytes / double(1ull << 30));
  else std::snprintf(buf, sizeof buf, "%.0f MB", bytes / double(1ull << 20));
  return buf;
}

// The Debian version a kernel folder was unpacked from (root.done), or "".
std::string version_of(const fs::path& kdir) {
  auto v = read_text(kdir / "root.done");
  if (!v.ok()) return "";
  std::string s = v.value();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Downloaded packages that belong to ABI only (image, headers, -common, -dbg) or to its
// version (linux-source-*_VERSION_*); linux-kbuild is shared and never counted or removed here.
std::vector<fs::path> debs_of(const fs::path& debs, const std::string& abi, const std::string& version,
                              const std::set<std::string>& kept_versions) {
  std::vector<fs::path> out;
  std::string series = abi.substr(0, abi.rfind('-'));  // 6.1.0-56
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(debs, ec)) {
    std::string n = e.path().filename().string();
    bool mine = n.rfind("linux-image-" + abi + "_", 0) == 0 || n.rfind("linux-image-" + abi + "-dbg_", 0) == 0 ||
                n.rfind("linux-headers-" + abi + "_", 0) == 0 || n.rfind("linux-headers-" + series + "-common_", 0) == 0;
    if (!version.empty() && !kept_versions.count(version) && n.rfind("linux-source-", 0) == 0 &&
        n.find("_" + version + "_") != std::string::npos)
      mine = true;
    if (mine) out.push_back(e.path());
  }
  return out;
}

Result<CliOutcome> list(const fs::path& root) {
  std::error_code ec;
  std::vector<fs::path> kernels;
  for (const auto& e : fs::directory_iterator(root / "kernels", ec))
    if (e.is_directory()) kernels.push_back(e.path());
  std::sort(kernels.begin(), kernels.end());
  std::uintmax_t all = 0;
  std::printf("%-18s %-11s %9s %9s %9s %9s\n", "kernel", "version", "tree", "other", "packages", "total");
  for (const auto& k : kernels) {
    std::string abi = k.filename().string(), version = version_of(k);
    std::uintmax_t tree = size_of(k / "tree"), whole = size_of(k), debs = 0;
    for (const auto& d : debs_of(root / "debs", abi, version, {})) debs += size_of(d);
    all += whole + debs;
    std::printf("%-18s %-11s %9s %9s %9s %9s\n", abi.c_str(), version.empty() ? "?" : version.c_str(),
                human(tree).c_str(), human(whole - tree).c_str(), human(debs).c_str(), human(whole + debs).c_str());
  }
  std::uintmax_t debs_total = size_of(root / "debs");
  std::printf("in all: %s in %s (packages: %s)\n", human(size_of(root)).c_str(), root.c_str(), human(debs_total).c_str());
  (void)all;
  return CliOutcome::ok;
}

Result<CliOutcome> prune(const fs::path& root, const CachePrune& what) {
  const std::set<std::string> keep(what.keep.begin(), what.keep.end());
  const bool trees_only = what.trees_only, everything = what.everything;
  if (keep.empty() && !everything && !trees_only)
    return Error(Errc::invalid_argument, "cache prune: say what to keep (--keep ABI...), or --trees, or --all");
  std::error_code ec;
  std::set<std::string> kept_versions;
  for (const auto& k : keep) kept_versions.insert(version_of(root / "kernels" / k));
  std::uintmax_t freed = 0;
  for (const auto& e : fs::directory_iterator(root / "kernels", ec)) {
    if (!e.is_directory()) continue;
    std::string abi = e.path().filename().string();
    if (keep.count(abi)) continue;
    NR_TRY(auto lock, FileLock::acquire(e.path() / ".tree.lock",
                                        {.holder = "noreboot-build", .why = "removing a kernel from the cache"}));
    if (trees_only) {
      std::uintmax_t n = size_of(e.path() / "tree");
      if (n == 0) continue;
      fs::remove(e.path() / "tree.done", ec);  // first: a half-removed tree is never taken for a prepared one
      fs::remove_all(e.path() / "tree", ec);
      if (ec) return Error(Errc::io, "cannot remove " + (e.path() / "tree").string() + ": " + ec.message());
      // The include graph (include_graph_cache.h) describes that tree: it goes with it.
      n += size_of(e.path() / "include-graph");
      fs::remove(e.path() / "include-graph", ec);
      std::cout << "removed the prepared tree of " << abi << " (" << human(n) << ")\n";
      freed += n;
      continue;
    }
    std::string version = version_of(e.path());
    std::uintmax_t n = size_of(e.path());
    for (const auto& d : debs_of(root / "debs", abi, version, kept_versions)) {
      n += size_of(d);
      fs::remove(d, ec);
    }
    fs::remove(e.path() / "tree.done", ec);
    fs::remove(e.path() / "root.done", ec);
    fs::remove_all(e.path(), ec);
    if (ec) return Error(Errc::io, "cannot remove " + e.path().string() + ": " + ec.message());
    std::cout << "removed " << abi << " (" << human(n) << ")\n";
    freed += n;
  }
  std::cout << "freed " << human(freed) << "\n";
  return CliOutcome::ok;
}

}  // namespace

Result<CliOutcome> cache_list() { return list(cache_root()); }

Result<CliOutcome> cache_prune(const CachePrune& what) { return prune(cache_root(), what); }

std::string cache_usage() {
  return "noreboot-build cache list | prune --keep ABI... | prune --trees [--keep ABI]... | prune --all\n"
         "the cache is " + cache_root().string() + " ($NOREBOOT_CACHE)\n";
}

}  // namespace noreboot::builder
