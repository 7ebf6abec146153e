// The HTTP client over libcurl (see http_client.h).
#include "core/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/api_types.h"
#include "core/bytes.h"
#include "core/file_io.h"

namespace noreboot::http {

struct Client::Handles {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  ~Handles() {
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
  }
};

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
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
  void add_header(const std::string& line) { headers = curl_slist_append(headers, line.c_str()); }
  CURL* h;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

// The options every transfer shares.
void common(Easy& e, const ClientOptions& o, const std::string& url, const std::string& bearer, long timeout) {
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_seconds);
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(e.h, CURLOPT_ERRORBUFFER, e.errbuf);
  if (!o.user_agent.empty()) curl_easy_setopt(e.h, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(e.h, CURLOPT_NOPROGRESS, 1L);
  if (!o.ca_file.empty()) curl_easy_setopt(e.h, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!bearer.empty()) e.add_header("Authorization: Bearer " + bearer);
  e.add_header("Expect:");  // no 100-continue round trip before a large body
}

Error transport_error(CURLcode rc, const Easy& e, const std::string& method, const std::string& url) {
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Error(Errc::unavailable, method + " " + url + ": cancelled (stopping)");
  return Error(Errc::unavailable,
               method + " " + url + ": " + (e.errbuf[0] ? std::string(e.errbuf) : std::string(curl_easy_strerror(rc))));
}

struct ReplySink {
  std::string* body;
  std::uint64_t max;
  bool too_big = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<ReplySink*>(user);
  if (s->body->size() + size * n > s->max) {
    s->too_big = true;
    return 0;
  }
  s->body->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = std::string(value);
  }
  return size * n;
}

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)), handles_(std::make_unique<Handles>()) {
  global_init();
  handles_->multi = curl_multi_init();
  if (handles_->multi) handles_->easy = curl_easy_init();  // else reported by the first request
}

Client::~Client() = default;

// Drives one transfer to its end, sleeping in curl_multi_poll between events. The loop wakes
// for socket activity, curl's own timers (connect/transfer timeouts), the wake fd, or, without
// a wake fd, every 500 ms to look at the stop flag.
int Client::perform(void* easy) const {
  CURLM* m = handles_->multi;
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
    if (options_.stop && options_.stop->load()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_waitfd wake{options_.wake_fd, CURL_WAIT_POLLIN, 0};
    bool have_wake = options_.wake_fd >= 0;
    curl_multi_poll(m, have_wake ? &wake : nullptr, have_wake ? 1 : 0, have_wake ? 3'600'000 : 500, nullptr);
  }
  curl_multi_remove_handle(m, easy);
  return result;
}

Result<Response> Client::send(const Request& req) const {
  std::string url = options_.base + req.path;
  Easy e(handles_->easy);
  if (!e.h) return Error(Errc::internal, req.method + " " + url + ": libcurl failed to initialise");
  common(e, options_, url, req.bearer, req.timeout_seconds);
  if (req.path_as_is) curl_easy_setopt(e.h, CURLOPT_PATH_AS_IS, 1L);
  if (!req.content_type.empty()) e.add_header("Content-Type: " + req.content_type);
  for (const auto& h : req.headers) e.add_header(h);
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  if (req.method == "HEAD") {
    curl_easy_setopt(e.h, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(e.h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  Response r;
  ReplySink sink{&r.body, options_.max_reply_bytes};
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(e.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e.h, CURLOPT_HEADERDATA, &r.headers);
  auto rc = static_cast<CURLcode>(perform(e.h));
  if (sink.too_big)
    return Error(Errc::refused, req.method + " " + url + ": the reply is larger than " +
                                    std::to_string(options_.max_reply_bytes) + " bytes (abandoned)");
  if (rc != CURLE_OK) return transport_error(rc, e, req.method, url);
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

Result<Response> Client::post_json(const std::string& path, const std::string& json, const std::string& bearer,
                                   long timeout_seconds) const {
  Request req;
  req.method = "POST";
  req.path = path;
  req.body = json;
  req.content_type = "application/json";
  req.bearer = bearer;
  req.timeout_seconds = timeout_seconds;
  return send(req);
}

Status Client::download(const std::string& path, const std::string& bearer, const std::filesystem::path& dest,
                        const std::string& sha256, std::uint64_t size, long timeout) const {
  std::filesystem::path part = dest;
  part += ".part";
  std::error_code ec;
  std::uint64_t have = std::filesystem::exists(part, ec) ? std::filesystem::file_size(part, ec) : 0;
  if (ec || have > size) {
    std::filesystem::remove(part, ec);
    have = 0;
  }
  std::string url = options_.base + path;
  if (have < size || size == 0) {
    FILE* f = std::fopen(part.c_str(), have ? "ab" : "wb");
    if (!f) return Error(Errc::io, "cannot open " + part.string() + ": " + std::strerror(errno));
    Easy e(handles_->easy);
    if (!e.h) {
      std::fclose(f);
      return Error(Errc::internal, "GET " + url + ": libcurl failed to initialise");
    }
    common(e, options_, url, bearer, timeout);
    curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
    if (have) curl_easy_setopt(e.h, CURLOPT_RANGE, (std::to_string(have) + "-").c_str());
    // A 200 answer to a Range request means "here is all of it": start the file over. The file
    // never grows past the expected size: a server sending more is cut off there (the transfer
    // aborts) instead of filling the disk.
    std::string error_body;
    struct Sink {
      FILE* f; std::string* err; long status; CURL* h; bool ranged; bool truncated; std::uint64_t have;
      std::uint64_t size; bool too_big;
    } sink{f, &error_body, 0, e.h, have > 0, false, have, size, false};
    curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) -> size_t {
      auto* k = static_cast<Sink*>(u);
      if (k->status == 0) curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &k->status);
      if (k->status >= 400) {
        if (k->err->size() < 4096) k->err->append(d, s * n);
        return s * n;
      }
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
      size_t wrote = std::fwrite(d, s, n, k->f) * s;
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
    if (rc != CURLE_OK) return transport_error(rc, e, "GET", url);
    long status = 0;
    curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 && status != 206) {
      if (status == 416) std::filesystem::remove(part, ec);
      return Error(status == 404 ? Errc::not_found : Errc::unavailable,
                   "download " + url + ": " + describe_http_error(Response{status, error_body, {}}));
    }
    if (!flushed) return Error(Errc::io, "cannot write " + part.string());
  }
  auto bytes = read_file(part, size + 1);
  if (!bytes.ok()) return bytes.error();
  std::string got = sha256_hex(*bytes);
  if (bytes->size() != size || got != sha256) {
    std::filesystem::remove(part, ec);
    return Error(Errc::integrity, "download " + url + ": got " + std::to_string(bytes->size()) +
                                      " bytes with SHA-256 " + got + ", the offer said " + std::to_string(size) +
                                      " bytes, " + sha256 + " (discarded; will retry)");
  }
  std::filesystem::rename(part, dest, ec);
  if (ec) return Error(Errc::io, "cannot rename " + part.string() + ": " + ec.message());
  return ok_status();
}

std::string describe_http_error(const Response& r) {
  auto e = api::parse_api_error(r.body);
  if (e.ok()) return "HTTP " + std::to_string(r.status) + " " + e->code + ": " + e->message;
  return "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
}

}  // namespace noreboot::http
