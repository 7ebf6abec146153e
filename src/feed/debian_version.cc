// Debian version order: see debian_version.h.
#include "feed/debian_version.h"

#include <algorithm>
#include <cctype>

#include "core/numbers.h"

namespace noreboot::feed {
namespace {

struct Parts {
  unsigned long long epoch = 0;
  std::string_view upstream;
  std::string_view revision;
};

Parts split(std::string_view v) {
  Parts p;
  auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    for (char c : v.substr(0, colon))
      if (is_ascii_digit(c)) p.epoch = p.epoch * 10 + static_cast<unsigned>(c - '0');
    v = v.substr(colon + 1);
  }
  auto dash = v.rfind('-');
  if (dash != std::string_view::npos) {
    p.upstream = v.substr(0, dash);
    p.revision = v.substr(dash + 1);
  } else {
    p.upstream = v;
  }
  return p;
}

// dpkg's weight of one character in a non-digit run: '~' lowest (below the end, 0), letters
// by their code, anything else above every letter.
int order(char c) {
  if (c == '~') return -1;
  if (std::isalpha(static_cast<unsigned char>(c))) return static_cast<unsigned char>(c);
  return static_cast<unsigned char>(c) + 256;
}

int compare_part(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    // Non-digit runs, character by character; the end of a run weighs 0.
    while ((i < a.size() && !is_ascii_digit(a[i])) || (j < b.size() && !is_ascii_digit(b[j]))) {
      int ca = (i < a.size() && !is_ascii_digit(a[i])) ? order(a[i]) : 0;
      int cb = (j < b.size() && !is_ascii_digit(b[j])) ? order(b[j]) : 0;
      if (ca != cb) return ca < cb ? -1 : 1;
      if (i < a.size() && !is_ascii_digit(a[i])) ++i;
      if (j < b.size() && !is_ascii_digit(b[j])) ++j;
    }
    // Digit runs as numbers: skip leading zeros, then the longer run is larger.
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    size_t si = i, sj = j;
    while (i < a.size() && is_ascii_digit(a[i])) ++i;
    while (j < b.size() && is_ascii_digit(b[j])) ++j;
    size_t la = i - si, lb = j - sj;
    if (la != lb) return la < lb ? -1 : 1;
    int c = a.substr(si, la).compare(b.substr(sj, lb));
    if (c != 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

}  // namespace

bool valid_debian_version(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  auto colon = v.find(':');
  std::string_view rest = v;
  if (colon != std::string_view::npos) {
    if (colon == 0) return false;
    for (char c : v.substr(0, colon))
      if (!is_ascii_digit(c)) return false;
    rest = v.substr(colon + 1);
  }
  if (rest.empty() || !is_ascii_digit(rest[0])) return false;
  for (char c : rest)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+' && c != '~' && c != '-') return false;
  return rest.back() != '-';
}

int compare_debian_versions(std::string_view a, std::string_view b) {
  Parts pa = split(a), pb = split(b);
  if (pa.epoch != pb.epoch) return pa.epoch < pb.epoch ? -1 : 1;
  if (int c = compare_part(pa.upstream, pb.upstream)) return c;
  return compare_part(pa.revision, pb.revision);
}

std::vector<std::string> sort_debian_versions(std::vector<std::string> versions) {
  std::sort(versions.begin(), versions.end(),
            [](const std::string& x, const std::string& y) { return compare_debian_versions(x, y) < 0; });
  versions.erase(std::unique(versions.begin(), versions.end(),
                             [](const std::string& x, const std::string& y) { return compare_debian_versions(x, y) == 0; }),
                 versions.end());
  return versions;
}

std::string kernel_series(std::string_view version) {
  auto colon = version.find(':');
  if (colon != std::string_view::npos) version = version.substr(colon + 1);
  auto first = version.find('.');
  if (first == std::string_view::npos) return std::string(version);
  auto second = version.find('.', first + 1);
  return std::string(version.substr(0, second));
}

}  // namespace noreboot::feed
