#include "admin/cmd_server_client.h"

#include <curl/curl.h>

#include "core/api_types.h"

namespace noreboot::admin {
namespace {

size_t on_body(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

}  // namespace

Result<nlohmann::json> server_call(const ServerTarget& t, const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& content_type) {
  if (t.url.empty())
    return Error(Errc::invalid_argument, "no server: give --server URL or set NOREBOOT_SERVER");
  if (t.token.empty())
    return Error(Errc::invalid_argument,
                 "no admin token: give --token-file FILE (e.g. DATA/admin.token) or set NOREBOOT_ADMIN_TOKEN");
  CURL* c = curl_easy_init();
  if (!c) return Error(Errc::internal, "libcurl failed to initialise");
  std::string url = t.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  std::string reply;
  struct curl_slist* h = nullptr;
  h = curl_slist_append(h, ("Authorization: Bearer " + t.token).c_str());
  h = curl_slist_append(h, ("Content-Type: " + content_type).c_str());
  h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  if (!t.cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, t.cacert.c_str());
  if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK)
    return Error(Errc::unavailable, method + " " + url + ": " + curl_easy_strerror(rc));
  if (status >= 400) {
    auto e = api::parse_api_error(reply);
    std::string msg = "server answered " + std::to_string(status) + " to " + method + " " + path + ": " +
                      (e ? e->code + ": " + e->message : reply.substr(0, 300));
    Errc code = status == 422 ? Errc::refused
                : status == 404 ? Errc::not_found
                : status == 400 ? Errc::invalid_argument
                : status == 409 ? Errc::conflict
                : status >= 500 ? Errc::unavailable
                                : Errc::conflict;
    return Error(code, msg);
  }
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) return Error(Errc::invalid_input, "server reply to " + path + " is not JSON");
  return j;
}

}  // namespace noreboot::admin
