// One route table: method, path pattern, role and handler, in one row per route.
//
// Problem: the server answered its API through three hand routers (if-chains on segment
// counts and words), and /metrics kept a fourth list of the same paths for its labels. A new
// route had to be added in two places, and a 405 or 404 depended on where in the chain a
// request fell. Approach: every route is a row {method, pattern, role, handler}; a pattern is
// a path whose segments are fixed words or placeholders ("/v1/rollouts/{id}/halt"); a lookup
// gives the row and the captured placeholders, or tells "no such path" (404) from "path known,
// method not" (405, with the methods the path does allow, for the Allow header). The /metrics
// label of a request is the pattern of the row its path matches (route_labels.h reads the
// patterns from the table), so the label set is bounded by the table, whatever clients send.
// Trade-off: a linear scan over a few dozen rows per request; cheaper than one JSON parse.
//
// Rules of a pattern: "/" alone is the root; a segment "{name}" matches any one non-empty
// segment and is captured under `name`; any other segment matches itself only. A row for GET
// also answers HEAD (the HTTP layer drops the body). A row whose method is "*" answers every
// method no earlier row of its path takes (the dashboard's login page answers any method but
// POST with the form); the API's table has none.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace noreboot::server {

// Who may call a route. The router authenticates before the handler runs.
enum class Role {
  open,            // no credential (health, metrics, enrollment: its token is in the body)
  host,            // a host credential (nrh_...)
  host_or_reader,  // a host credential, or an admin token of either role (bundle downloads)
  reader,          // an admin token, read or admin role
  admin,           // an admin token with the admin role
};

using Captures = std::map<std::string, std::string, std::less<>>;

// "/v1/hosts/h_1" -> {"v1", "hosts", "h_1"}; "/" -> {}; a trailing '/' gives an empty last
// segment ("/v1/hosts/" -> {"v1", "hosts", ""}), which no pattern matches.
std::vector<std::string> split_path(std::string_view path);

class PathPattern {
 public:
  explicit PathPattern(std::string_view text);
  const std::string& text() const { return text_; }
  // True when `segments` has this shape; fills `captures` (if given) with the placeholders.
  bool match(const std::vector<std::string>& segments, Captures* captures = nullptr) const;

 private:
  std::string text_;
  std::vector<std::string> segments_;  // a placeholder is kept as "{name}"
};

template <typename Handler>
struct Route {
  std::string method;  // "GET", "POST", "DELETE"; "*": any method
  PathPattern pattern;
  Role role;
  Handler handler;
};

template <typename Handler>
class RouteTable {
 public:
  struct Found {
    const Route<Handler>* route = nullptr;  // the row for this method and path, if any
    Captures captures;
    // The routes whose path matches (any method): empty means 404; non-empty without
    // `route` means 405, and `allowed` lists their methods (GET brings HEAD).
    std::vector<const Route<Handler>*> same_path;
    std::string allowed;
  };

  explicit RouteTable(std::vector<Route<Handler>> routes) : routes_(std::move(routes)) {}

  Found find(std::string_view method, const std::vector<std::string>& segments) const {
    Found f;
    std::vector<std::string> methods;
    for (const auto& r : routes_) {
      Captures c;
      if (!r.pattern.match(segments, &c)) continue;
      f.same_path.push_back(&r);
      methods.push_back(r.method);
      if (r.method == "GET") methods.emplace_back("HEAD");
      if (!f.route && (r.method == method || r.method == "*" || (method == "HEAD" && r.method == "GET"))) {
        f.route = &r;
        f.captures = std::move(c);
      }
    }
    for (const auto& m : methods)
      if (f.allowed.find(m) == std::string::npos) f.allowed += (f.allowed.empty() ? "" : ", ") + m;
    return f;
  }

  // Every distinct pattern, in table order (the /metrics label set).
  std::vector<std::string> patterns() const {
    std::vector<std::string> out;
    for (const auto& r : routes_)
      if (std::find(out.begin(), out.end(), r.pattern.text()) == out.end()) out.push_back(r.pattern.text());
    return out;
  }

  const std::vector<Route<Handler>>& routes() const { return routes_; }

 private:
  std::vector<Route<Handler>> routes_;
};

}  // namespace noreboot::server
