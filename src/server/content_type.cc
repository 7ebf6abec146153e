// The Content-Type rule of /v1 writes (content_type.h has the design).
#include "server/content_type.h"

#include <cctype>

namespace noreboot::server {

std::string media_type_of(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_write_method(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

std::string_view body_media_type(std::string_view method, std::string_view path) {
  if (method == "POST" && (path == "/v1/bundles" || path == "/v1/bundles/")) return kBundleMediaType;
  return kJsonMediaType;
}

std::optional<std::string> content_type_problem(const HttpRequest& req, bool has_body, std::string_view needed) {
  if (!is_write_method(req.method)) return std::nullopt;
  auto it = req.headers.find("content-type");
  const std::string what = needed == kBundleMediaType ? "send the .nrp file's bytes" : "send the body as JSON";
  const std::string fix = what + " with the header 'Content-Type: " + std::string(needed) + "'";
  const std::string where = req.method + " " + req.path.substr(0, 128);
  if (it == req.headers.end()) {
    if (!has_body) return std::nullopt;
    return "the Content-Type header is missing on " + where + ": " + fix;
  }
  if (media_type_of(it->second) == needed) return std::nullopt;
  return "Content-Type '" + it->second.substr(0, 80) + "' is not accepted on " + where + ": " + fix +
         " (a write without a body may leave the header out)";
}

}  // namespace noreboot::server
