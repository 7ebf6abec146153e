#include "server/test_client.h"

#include <curl/curl.h>
#include <strings.h>

namespace noreboot::server::testing {
namespace {

size_t on_body(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* out) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

}  // namespace

Client::Client(std::string base_url) : base_(std::move(base_url)), curl_(curl_easy_init()) {}
Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Reply Client::request(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& token, const std::vector<std::string>& extra_headers,
                      long timeout_seconds) {
  CURL* c = static_cast<CURL*>(curl_);
  Reply r;
  curl_easy_reset(c);
  std::string url = base_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);  // send "../" as is: tests probe path handling
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_seconds);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  struct curl_slist* hdrs = nullptr;
  if (!token.empty()) hdrs = curl_slist_append(hdrs, ("Authorization: Bearer " + token).c_str());
  for (const auto& h : extra_headers) hdrs = curl_slist_append(hdrs, h.c_str());
  hdrs = curl_slist_append(hdrs, "Expect:");
  // A /v1 body goes with its media type, as the server requires of writes (content_type.h):
  // JSON, or the .nrp bytes on an upload, unless the caller names one. No body: no
  // Content-Type (curl would add a form's). Dashboard pages get curl's form type.
  bool typed = false;
  for (const auto& h : extra_headers)
    if (h.size() >= 13 && strncasecmp(h.c_str(), "Content-Type:", 13) == 0) typed = true;
  if (!typed && method != "GET" && method != "HEAD" && path.starts_with("/v1/")) {
    if (body.empty())
      hdrs = curl_slist_append(hdrs, "Content-Type:");
    else if (path.starts_with("/v1/bundles"))
      hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
    else
      hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  }
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hdrs);
  return r;
}

}  // namespace noreboot::server::testing
