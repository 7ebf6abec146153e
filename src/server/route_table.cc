// Path patterns of the route table (see route_table.h).
#include "server/route_table.h"

namespace noreboot::server {
namespace {

bool is_placeholder(std::string_view s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> seg;
  if (path.empty() || path == "/") return seg;
  std::size_t i = path.front() == '/' ? 1 : 0;
  while (true) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      seg.emplace_back(path.substr(i));
      return seg;
    }
    seg.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
}

PathPattern::PathPattern(std::string_view text) : text_(text), segments_(split_path(text)) {}

bool PathPattern::match(const std::vector<std::string>& segments, Captures* captures) const {
  // "/" arrives as no segment or one empty segment.
  if (segments_.empty()) return segments.empty() || (segments.size() == 1 && segments[0].empty());
  if (segments.size() != segments_.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = segments_[i];
    if (is_placeholder(want)) {
      if (segments[i].empty()) return false;
    } else if (want != segments[i]) {
      return false;
    }
  }
  if (captures)
    for (std::size_t i = 0; i < segments.size(); ++i)
      if (is_placeholder(segments_[i])) (*captures)[segments_[i].substr(1, segments_[i].size() - 2)] = segments[i];
  return true;
}

}  // namespace noreboot::server
