// Reading the fixes out of a Debian changelog: see changelog.h.
#include "feed/changelog.h"

#include <cctype>
#include <set>

#include "core/numbers.h"

namespace noreboot::feed {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// CVE-YYYY-N+ starting at text[i], or "".
std::string cve_at(std::string_view text, size_t i) {
  if (text.compare(i, 4, "CVE-") != 0) return "";
  size_t j = i + 4, year = 0;
  while (j < text.size() && is_ascii_digit(text[j])) ++j, ++year;
  if (year != 4 || j >= text.size() || text[j] != '-') return "";
  size_t k = j + 1;
  while (k < text.size() && is_ascii_digit(text[k])) ++k;
  if (k - (j + 1) < 4) return "";
  return std::string(text.substr(i, k - i));
}

std::vector<std::string> cves_in(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 4 < text.size(); ++i)
    if (auto c = cve_at(text, i); !c.empty()) { out.push_back(c); i += c.size() - 1; }
  return out;
}

// "nfsd: fix the race (CVE-2026-1, CVE-2026-2)" -> "nfsd: fix the race".
std::string without_cves(const std::string& item) {
  std::string out;
  for (size_t i = 0; i < item.size();) {
    if (auto c = cve_at(item, i); !c.empty()) { i += c.size(); continue; }
    out += item[i++];
  }
  // Drop the punctuation a removed list leaves: "()", "(, )", trailing spaces.
  std::string clean;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '(') {
      size_t j = i + 1;
      while (j < out.size() && (out[j] == ',' || out[j] == ' ')) ++j;
      if (j < out.size() && out[j] == ')') { i = j; continue; }
    }
    clean += out[i];
  }
  return trim(clean);
}

std::string shorten(std::string s) {
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

}  // namespace

Changelog parse_changelog(std::string_view text) {
  Changelog log;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) log.items.push_back(current);
    current.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    std::string t = trim(line);
    if (t.empty() || t.rfind("debian-fix:", 0) == 0 || t.rfind("linux (", 0) == 0 || t.rfind("-- ", 0) == 0) {
      flush();
      continue;
    }
    if (t.rfind("* ", 0) == 0 || t.rfind("- ", 0) == 0) {
      flush();
      current = trim(t.substr(2));
    } else if (!current.empty()) {
      current += " " + t;   // a continuation line of the current item
    }
  }
  flush();
  std::set<std::string> seen;
  for (const auto& item : log.items)
    for (auto& c : cves_in(item))
      if (seen.insert(c).second) log.cves.push_back(c);
  return log;
}

std::vector<ChangelogFix> fixes_of(const Changelog& log, std::string_view version) {
  std::vector<ChangelogFix> out;
  std::set<std::string> seen;
  for (const auto& item : log.items) {
    std::string desc = without_cves(item);
    for (auto& c : cves_in(item)) {
      if (!seen.insert(c).second) continue;
      out.push_back({c, shorten(desc.empty() ? c : desc)});
    }
  }
  if (out.empty()) {
    std::string desc = log.items.empty() ? "Debian linux " + std::string(version) : without_cves(log.items.front());
    out.push_back({"DEBIAN-" + std::string(version), shorten(desc.empty() ? "Debian linux " + std::string(version) : desc)});
  }
  return out;
}

}  // namespace noreboot::feed
