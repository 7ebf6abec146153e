// A small HTTPS client for the agent over libcurl: JSON POSTs and resumable downloads.
//
// libcurl does TLS (system CAs, or the configured ca_file), honours the proxy environment
// variables (https_proxy, no_proxy ...) by itself, and lets a transfer be abandoned from its
// progress callback, which is how a SIGTERM ends a long poll at once instead of after it.
// Downloads go to <dest>.part and resume from its size with a Range request; the SHA-256 and
// size are checked before the file is renamed into place, so a killed agent never leaves a
// file that looks complete.
// One curl handle lives as long as the client, so consecutive requests reuse the connection,
// the TLS session and the parsed CA store (a fresh handle per request cost ~6 ms of CPU per
// HTTPS check-in here, mostly the handshake and loading the system CA bundle). Transfers run
// through curl's multi interface and wait in curl_multi_poll on the sockets plus an optional
// wake fd: a long poll costs no CPU while it waits (no progress-callback timer), and a stop
// request that writes the wake fd ends it at once.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"

namespace noreboot::agent {

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  // base: "https://host:port" (no trailing slash); stop: when it becomes true, transfers abort
  // (at once when wake_fd, an fd that becomes readable with it, is given; else within 500 ms).
  HttpClient(std::string base, std::filesystem::path ca_file, const std::atomic<bool>* stop, int wake_fd = -1);

  // POST JSON; bearer may be empty. Errc::unavailable for network errors (retry later).
  Result<HttpResponse> post_json(const std::string& path, const std::string& body,
                                 const std::string& bearer, long timeout_seconds) const;

  // GET into `dest` (via dest.part, resumed), then checks size and SHA-256.
  Status download(const std::string& path, const std::string& bearer, const std::filesystem::path& dest,
                  const std::string& sha256, uint64_t size, long timeout_seconds) const;

  const std::string& base() const { return base_; }

 private:
  std::string base_;
  std::filesystem::path ca_file_;
  const std::atomic<bool>* stop_;
  int wake_fd_;
  std::unique_ptr<void, void (*)(void*)> handle_;  // CURL*, used by one thread at a time
  std::unique_ptr<void, void (*)(void*)> multi_;   // CURLM*: its connection cache outlives requests
  int perform(void* easy) const;                   // CURLcode of one transfer
};

// The server's {"error": {"code", "message"}} body as one line, or the raw status.
std::string describe_http_error(const HttpResponse& r);

}  // namespace noreboot::agent
