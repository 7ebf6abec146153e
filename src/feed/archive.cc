// What Debian's archive serves: see archive.h.
#include "feed/archive.h"

#include <fnmatch.h>

#include <sstream>

#include "feed/debian_version.h"

namespace noreboot::feed {
namespace {

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::vector<std::string> parse_madison(std::string_view text, std::string_view package) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find('|');
    if (a == std::string::npos) continue;
    auto b = line.find('|', a + 1);
    if (b == std::string::npos) continue;
    if (trim(line.substr(0, a)) != package) continue;
    std::string v = trim(line.substr(a + 1, b - a - 1));
    if (valid_debian_version(v)) out.push_back(v);
  }
  return sort_debian_versions(out);
}

std::vector<ArchiveKernel> parse_kernel_list(std::string_view text) {
  std::vector<ArchiveKernel> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    ArchiveKernel k;
    std::string state;
    if (!(words >> k.abi >> k.version >> state)) continue;
    if (!valid_debian_version(k.version)) continue;
    k.complete = state == "complete";
    out.push_back(k);
  }
  return out;
}

std::vector<std::string> versions_after(const std::vector<std::string>& served, const std::string& after) {
  std::vector<std::string> out;
  for (const auto& v : served)
    if (after.empty() || compare_debian_versions(v, after) > 0) out.push_back(v);
  return out;
}

std::string version_before(const std::vector<std::string>& served, const std::string& version) {
  std::string before;
  for (const auto& v : served) {
    if (compare_debian_versions(v, version) >= 0) break;
    before = v;
  }
  return before;
}

bool kernel_selected(const std::vector<std::string>& globs, const std::string& release) {
  if (globs.empty()) return true;
  for (const auto& g : globs)
    if (::fnmatch(g.c_str(), release.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace noreboot::feed
