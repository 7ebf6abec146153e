// The fixed route table behind the /metrics labels (see route_labels.h).
#include "server/route_labels.h"

#include <string_view>

namespace noreboot::server {
namespace {

std::vector<std::string> split_template(std::string_view t) {
  std::vector<std::string> seg;
  if (t == "/") return seg;
  std::size_t i = 1;
  while (i <= t.size()) {
    std::size_t j = t.find('/', i);
    if (j == std::string_view::npos) j = t.size();
    seg.emplace_back(t.substr(i, j - i));
    i = j + 1;
  }
  return seg;
}

bool is_placeholder(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

// "halt|resume|promote" matches one of its words.
bool matches_alternatives(const std::string& pattern, const std::string& word) {
  std::size_t i = 0;
  while (i <= pattern.size()) {
    std::size_t j = pattern.find('|', i);
    if (j == std::string::npos) j = pattern.size();
    if (pattern.compare(i, j - i, word) == 0) return true;
    i = j + 1;
  }
  return false;
}

struct Route {
  std::string text;
  std::vector<std::string> seg;
};

const std::vector<Route>& table() {
  static const std::vector<Route> routes = [] {
    std::vector<Route> r;
    for (const auto& t : known_route_templates()) r.push_back({t, split_template(t)});
    return r;
  }();
  return routes;
}

}  // namespace

const std::vector<std::string>& known_route_templates() {
  static const std::vector<std::string> templates = {
      // Operations.
      "/healthz", "/metrics",
      // Agents.
      "/v1/enroll", "/v1/checkin", "/v1/report", "/v1/bundles/{sha256}",
      // Admin API.
      "/v1/bundles", "/v1/fixes", "/v1/fixes/{id}", "/v1/fixes/{id}/rollouts", "/v1/fixes/{id}/approve",
      "/v1/rollouts", "/v1/rollouts/{id}", "/v1/rollouts/{id}/promote|halt|resume|approve",
      "/v1/pins", "/v1/pins/{group}", "/v1/hosts", "/v1/hosts/{id}", "/v1/fleet", "/v1/audit",
      "/v1/tokens/enrollment", "/v1/tokens/enrollment/{id}", "/v1/tokens/admin", "/v1/tokens/admin/{id}",
      // Dashboard pages.
      "/", "/login", "/logout", "/hosts", "/hosts/{id}", "/fixes", "/fixes/{id}",
      "/rollouts/{id}/halt|resume|promote|approve",
  };
  return templates;
}

std::string route_label(const std::vector<std::string>& segments) {
  // "/" arrives as no segment or one empty segment.
  if (segments.empty() || (segments.size() == 1 && segments[0].empty())) return "/";
  for (const auto& route : table()) {
    if (route.seg.size() != segments.size()) continue;
    std::string label;
    bool match = true;
    for (std::size_t i = 0; match && i < segments.size(); ++i) {
      const std::string& want = route.seg[i];
      const std::string& got = segments[i];
      if (is_placeholder(want)) {
        match = !got.empty();
        label += "/" + want;
      } else if (want.find('|') != std::string::npos) {
        match = matches_alternatives(want, got);
        label += "/" + got;
      } else {
        match = want == got;
        label += "/" + want;
      }
    }
    if (match) return label;
  }
  return "other";
}

}  // namespace noreboot::server
