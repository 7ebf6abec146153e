// The /metrics labels, read from the route tables (see route_labels.h).
#include "server/route_labels.h"

#include "server/route_table.h"

namespace noreboot::server {
namespace {

const std::vector<PathPattern>& patterns() {
  static const std::vector<PathPattern> all = [] {
    std::vector<PathPattern> p;
    for (const auto& t : known_route_templates()) p.emplace_back(t);
    return p;
  }();
  return all;
}

}  // namespace

const std::vector<std::string>& known_route_templates() {
  static const std::vector<std::string> templates = [] {
    std::vector<std::string> t = api_route_patterns();
    for (auto& p : dashboard_route_patterns()) t.push_back(std::move(p));
    return t;
  }();
  return templates;
}

std::string route_label(const std::vector<std::string>& segments) {
  for (const auto& p : patterns())
    if (p.match(segments)) return p.text();
  return "other";
}

}  // namespace noreboot::server
