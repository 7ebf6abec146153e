// The one HTTP client: libcurl behind a small request/response API, for the agent (check-ins,
// reports, bundle downloads), noreboot-admin (the server commands) and the server's HTTP tests.
//
// Problem: three parts drove libcurl by hand, each with its own body callback, header list,
// timeouts and error wording, and only the agent's knew how to stop a long poll at once or
// reuse a connection.
//
// Approach: libcurl does the protocol work: TLS (the system CAs, or one PEM file given with
// ca_file), the proxy environment variables (https_proxy, no_proxy ...), keep-alive. One curl
// handle lives as long as the Client, so consecutive requests reuse the connection, the TLS
// session and the parsed CA store (a fresh handle per request cost ~6 ms of CPU per HTTPS
// check-in on the agent, mostly the handshake and loading the system CA bundle). Transfers run
// through curl's multi interface and wait in curl_multi_poll on the sockets plus an optional
// wake fd: a long poll costs no CPU while it waits, and a stop request that writes the wake fd
// ends it at once (without a wake fd the stop flag is looked at every 500 ms).
//
// A reply is capped at max_reply_bytes (a server cannot fill our memory), and a download at the
// size the caller expects (a server cannot fill the disk). Downloads go to <dest>.part and resume
// from its size with a Range request; the SHA-256 and size are checked before the file is
// renamed into place, so a killed process never leaves a file that looks complete.
//
// Errors name the method, the URL and what failed; a transport failure is Errc::unavailable
// (retry later), because that is what every caller does with it. An HTTP status is not an error
// here: the caller decides what a 404 or a 409 means (describe_http_error words it).
//
// A Client is used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::http {

struct ClientOptions {
  std::string base;                   // "https://host:port": every request path is appended to it
  std::filesystem::path ca_file;      // PEM file for a private CA; empty: the system CAs
  std::string user_agent;             // "noreboot-agent/0.1.0"; empty: none
  long connect_timeout_seconds = 15;
  std::uint64_t max_reply_bytes = std::uint64_t{64} << 20;
  // When *stop becomes true, a transfer is abandoned (Errc::unavailable, "cancelled"): at once
  // when wake_fd, an fd that becomes readable with it, is given; else within 500 ms.
  const std::atomic<bool>* stop = nullptr;
  int wake_fd = -1;
};

struct Request {
  std::string method = "GET";          // GET, HEAD, POST, PUT, DELETE, ...
  std::string path;                    // "/v1/checkin?wait=55", appended to ClientOptions::base
  std::string body;                    // sent for any method but GET and HEAD
  std::string content_type;            // "application/json", "application/octet-stream"; empty: none added
  std::string bearer;                  // "Authorization: Bearer <bearer>" when not empty
  std::vector<std::string> headers;    // more "Name: value" lines ("Name:" removes curl's own)
  long timeout_seconds = 300;          // the whole transfer
  bool path_as_is = false;             // send "../" as written (tests that probe path handling)
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names, last value wins
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request. Errc::unavailable when no reply arrived (network, TLS, timeout, stop);
  // Errc::refused when the reply is larger than max_reply_bytes.
  Result<Response> send(const Request& request) const;
  // POST a JSON body (bearer may be empty).
  Result<Response> post_json(const std::string& path, const std::string& json, const std::string& bearer,
                             long timeout_seconds) const;

  // GET `path` into `dest` (via dest.part, resumed), then checks its size and SHA-256 (lowercase
  // hex). A reply that would grow past `size` is cut off and discarded (Errc::integrity).
  Status download(const std::string& path, const std::string& bearer, const std::filesystem::path& dest,
                  const std::string& sha256, std::uint64_t size, long timeout_seconds) const;

  const std::string& base() const { return options_.base; }

 private:
  struct Handles;
  ClientOptions options_;
  std::unique_ptr<Handles> handles_;  // CURL* and CURLM*: the connection cache outlives requests
  int perform(void* easy) const;      // the CURLcode of one transfer
};

// The server's {"error": {"code", "message"}} body as one line ("HTTP 409 conflict: ..."), or the
// status and the start of the body.
std::string describe_http_error(const Response& r);

}  // namespace noreboot::http
