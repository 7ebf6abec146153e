// The tests' client: core's http::Client plus the tests' defaults for Content-Type (see below).
#include "server/test_client.h"

#include <strings.h>

#include "core/http_client.h"

namespace noreboot::server::testing {

Client::Client(std::string base_url)
    : client_(std::make_unique<http::Client>(http::ClientOptions{.base = std::move(base_url)})) {}
Client::~Client() = default;

Reply Client::request(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& token, const std::vector<std::string>& extra_headers,
                      long timeout_seconds) {
  http::Request req{.method = method, .path = path, .body = body, .bearer = token, .headers = extra_headers,
                    .timeout_seconds = timeout_seconds, .path_as_is = true};  // tests probe "../"
  // A /v1 body goes with its media type, as the server requires of writes (content_type.h):
  // JSON, or the .nrp bytes on an upload, unless the caller names one. No body: no
  // Content-Type (curl would add a form's). Dashboard pages get curl's form type.
  bool typed = false;
  for (const auto& h : extra_headers)
    if (h.size() >= 13 && strncasecmp(h.c_str(), "Content-Type:", 13) == 0) typed = true;
  if (!typed && method != "GET" && method != "HEAD" && path.starts_with("/v1/")) {
    if (body.empty()) req.headers.push_back("Content-Type:");
    else req.content_type = path.starts_with("/v1/bundles") ? "application/octet-stream" : "application/json";
  }
  Reply r;
  auto reply = client_->send(req);
  if (!reply) {
    r.error = reply.error().message();
    return r;
  }
  r.status = reply->status;
  r.body = std::move(reply->body);
  r.headers = std::move(reply->headers);
  return r;
}

}  // namespace noreboot::server::testing
