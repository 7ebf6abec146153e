// The HTTP request and response as the API layer sees them, free of Boost.Beast.
//
// Only http_server.cc includes Beast (it is header-only and slow to compile); everything else
// (routing, handlers, the dashboard, tests of those) works on these plain structs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace noreboot::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path + "?" + query
  std::string path;    // decoded path without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string remote;  // peer address
  // The connection it came on (set by the HTTP layer; 0: none). Api::abandon names it when
  // the client goes away while its request is parked.
  std::uint64_t connection = 0;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, sent instead of `body`: immutable bytes shared by many responses (a bundle
  // download is not copied per request).
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool head_only = false;  // HEAD: send headers (and Content-Length) without the body
};

using Respond = std::function<void(HttpResponse)>;

// Splits "a=b&c=%20d" into a map (percent-decoded, '+' as space). Later keys win.
std::map<std::string, std::string> parse_query(std::string_view q);
std::string percent_decode(std::string_view s);

}  // namespace noreboot::server
