#include "agent/http_client.h"

#include <curl/curl.h>

#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "agent/fs_util.h"
#include "core/api_types.h"
#include "core/bytes.h"

namespace noreboot::agent {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t append_file(char* data, size_t size, size_t n, void* user) {
  return std::fwrite(data, size, n, static_cast<FILE*>(user)) * size;
}

// One request on the client's long-lived handle: options are reset before and after (no
// pointer into this request's stack survives it); the connection, TLS session and CA store
// stay in the handle for the next request.
struct Easy {
  explicit Easy(CURL* handle) : h(handle) {
    if (h) curl_easy_reset(h);
  }
  ~Easy() {
    if (h) curl_easy_reset(h);
    curl_slist_free_all(headers);
  }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
  CURL* h;
  curl_slist* headers = nullptr;
};

void common(Easy& e, const std::string& url, const std::filesystem::path& ca, const std::string& bearer,
            long timeout, char* errbuf) {
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(e.h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e.h, CURLOPT_USERAGENT, "noreboot-agent/0.1.0");
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(e.h, CURLOPT_NOPROGRESS, 1L);
  if (!ca.empty()) curl_easy_setopt(e.h, CURLOPT_CAINFO, ca.c_str());
  if (!bearer.empty()) e.headers = curl_slist_append(e.headers, ("Authorization: Bearer " + bearer).c_str());
}

Error curl_error(CURLcode rc, const char* errbuf, const std::string& url) {
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Error(Errc::unavailable, "request to " + url + " cancelled (stopping)");
  return Error(Errc::unavailable, "request to " + url + " failed: " +
                                      (errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc))));
}

}  // namespace

HttpClient::HttpClient(std::string base, std::filesystem::path ca_file, const std::atomic<bool>* stop, int wake_fd)
    : base_(std::move(base)),
      ca_file_(std::move(ca_file)),
      stop_(stop),
      wake_fd_(wake_fd),
      handle_(nullptr, curl_easy_cleanup),
      multi_(nullptr, [](void* m) { curl_multi_cleanup(m); }) {
  global_init();
  multi_.reset(curl_multi_init());
  handle_.reset(curl_easy_init());
  if (!multi_) handle_.reset();  // reported as "curl_easy_init failed" by the first request
}

// Drives one transfer to its end, sleeping in curl_multi_poll between events. The loop wakes
// for socket activity, curl's own timers (connect/transfer timeouts), the wake fd, or, without
// a wake fd, every 500 ms to look at the stop flag.
int HttpClient::perform(void* easy) const {
  CURLM* m = multi_.get();
  if (curl_multi_add_handle(m, easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(m, &left))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) result = msg->data.result;
      break;
    }
    if (stop_ && stop_->load()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_waitfd wake{wake_fd_, CURL_WAIT_POLLIN, 0};
    bool have_wake = wake_fd_ >= 0;
    curl_multi_poll(m, have_wake ? &wake : nullptr, have_wake ? 1 : 0, have_wake ? 3'600'000 : 500, nullptr);
  }
  curl_multi_remove_handle(m, easy);
  return result;
}

Result<HttpResponse> HttpClient::post_json(const std::string& path, const std::string& body,
                                           const std::string& bearer, long timeout) const {
  Easy e(handle_.get());
  if (!e.h) return Error(Errc::internal, "curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string url = base_ + path;
  common(e, url, ca_file_, bearer, timeout, errbuf);
  e.headers = curl_slist_append(e.headers, "Content-Type: application/json");
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  HttpResponse r;
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &r.body);
  auto rc = static_cast<CURLcode>(perform(e.h));
  if (rc != CURLE_OK) return curl_error(rc, errbuf, url);
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

Status HttpClient::download(const std::string& path, const std::string& bearer, const std::filesystem::path& dest,
                            const std::string& sha256, uint64_t size, long timeout) const {
  std::filesystem::path part = dest;
  part += ".part";
  std::error_code ec;
  uint64_t have = std::filesystem::exists(part, ec) ? std::filesystem::file_size(part, ec) : 0;
  if (ec || have > size) {
    std::filesystem::remove(part, ec);
    have = 0;
  }
  std::string url = base_ + path;
  if (have < size || size == 0) {
    FILE* f = std::fopen(part.c_str(), have ? "ab" : "wb");
    if (!f) return Error(Errc::io, "cannot open " + part.string() + ": " + errno_text(errno));
    Easy e(handle_.get());
    if (!e.h) {
      std::fclose(f);
      return Error(Errc::internal, "curl_easy_init failed");
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    common(e, url, ca_file_, bearer, timeout, errbuf);
    curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
    if (have) curl_easy_setopt(e.h, CURLOPT_RANGE, (std::to_string(have) + "-").c_str());
    // A 200 answer to a Range request means "here is all of it": start the file over.
    std::string error_body;
    // The file never grows past the offered size: a server sending more is cut off there
    // (the transfer aborts) instead of filling the disk.
    struct Sink {
      FILE* f; std::string* err; long status; CURL* h; bool ranged; bool truncated; uint64_t have; uint64_t size; bool too_big;
    } sink{f, &error_body, 0, e.h, have > 0, false, have, size, false};
    curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) -> size_t {
      auto* k = static_cast<Sink*>(u);
      if (k->status == 0) curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &k->status);
      if (k->status >= 400) return append_body(d, s, n, k->err);
      // (`ranged`, not `have`: have grows with every chunk of this answer.)
      if (k->status == 200 && k->ranged && !k->truncated) {
        k->truncated = true;
        k->have = 0;
        if (std::fflush(k->f) != 0 || ::ftruncate(fileno(k->f), 0) != 0) return 0;
        std::fseek(k->f, 0, SEEK_SET);
      }
      if (k->have + s * n > k->size) {
        k->too_big = true;
        return 0;
      }
      size_t wrote = append_file(d, s, n, k->f);
      k->have += wrote;
      return wrote;
    });
    curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &sink);
    auto rc = static_cast<CURLcode>(perform(e.h));
    bool flushed = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    std::fclose(f);
    if (sink.too_big) {
      std::filesystem::remove(part, ec);
      return Error(Errc::integrity, "download " + url + ": the server sent more than the offered " +
                                        std::to_string(size) + " bytes: aborted and discarded");
    }
    if (rc != CURLE_OK) return curl_error(rc, errbuf, url);
    long status = 0;
    curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 && status != 206) {
      if (status == 416) std::filesystem::remove(part, ec);
      return Error(status == 404 ? Errc::not_found : Errc::unavailable,
                   "download " + url + ": " + describe_http_error(HttpResponse{status, error_body}));
    }
    if (!flushed) return Error(Errc::io, "cannot write " + part.string());
  }
  auto bytes = read_text(part);
  if (!bytes.ok()) return bytes.error();
  if (bytes->size() != size || sha256_hex(as_bytes(*bytes)) != sha256) {
    std::filesystem::remove(part, ec);
    return Error(Errc::integrity, "download " + url + ": got " + std::to_string(bytes->size()) +
                                      " bytes with SHA-256 " + sha256_hex(as_bytes(*bytes)) + ", the offer said " +
                                      std::to_string(size) + " bytes, " + sha256 + " (discarded; will retry)");
  }
  std::filesystem::rename(part, dest, ec);
  if (ec) return Error(Errc::io, "cannot rename " + part.string() + ": " + ec.message());
  return ok_status();
}

std::string describe_http_error(const HttpResponse& r) {
  auto e = api::parse_api_error(r.body);
  if (e.ok()) return "HTTP " + std::to_string(r.status) + " " + e->code + ": " + e->message;
  return "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
}

}  // namespace noreboot::agent
