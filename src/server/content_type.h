// Writes declare their body: the Content-Type rule of /v1 writes (issue 17 item 8).
//
// Problem: a browser lets any page send a "simple" cross-site request, a form POST with
// `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data`, without asking
// the target first (no CORS preflight). The server read every body as JSON whatever its
// declared type, so such a form, carried by a credential the browser adds on its own, could
// pin a group or halt a rollout. Approach: a /v1 write (POST, PUT, PATCH, DELETE) must say what
// its body is. A body is accepted only under the route's own media type, `application/json`
// for every route but the bundle upload (`application/octet-stream`, the .nrp file's bytes);
// parameters such as `; charset=utf-8` are allowed. A write without a body (a DELETE, an
// approve) needs no Content-Type, but one that names a wrong type is refused too: a form
// with no fields still arrives as `text/plain`. A browser can send `application/json` only
// after a preflight the server never answers, so no other site's form passes this check.
// The answer is 415 `unsupported_media_type`, naming the header and the value it needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/http_types.h"

namespace noreboot::server {

inline constexpr std::string_view kJsonMediaType = "application/json";
inline constexpr std::string_view kBundleMediaType = "application/octet-stream";

// "Application/JSON ; charset=utf-8" -> "application/json" (lowercase, parameters dropped).
std::string media_type_of(std::string_view content_type);

// POST, PUT, PATCH and DELETE: the methods that change something.
bool is_write_method(std::string_view method);

// The media type a write to this path must declare for its body.
std::string_view body_media_type(std::string_view method, std::string_view path);

// Why this request may not be handled (the 415 message), or nullopt when its Content-Type
// suits a write that needs `needed`. `has_body`: the request carries body bytes (the HTTP
// layer asks before it reads them, from Content-Length / Transfer-Encoding). Reads pass.
std::optional<std::string> content_type_problem(const HttpRequest& req, bool has_body, std::string_view needed);

}  // namespace noreboot::server
