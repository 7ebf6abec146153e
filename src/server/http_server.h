// HttpServer: the network side of noreboot-server (Boost.Beast over Asio), kept in one
// translation unit because Beast is header-only and expensive to compile.
//
// Asynchronous, HTTP/1.1 with keep-alive, optional TLS (OpenSSL). Each connection reads the
// header first, asks the Api for the body limit of that route (64 KiB JSON, 64 MiB bundle),
// answers 413 without reading an oversized body, then reads the body and hands the request
// to Api::handle. A long poll parks only the connection's state: no thread waits. A timer
// calls Api::tick every 250 ms, and at once (on the same strand) when the Api asks for it
// (set_wakeup: a publish, a failure report). SIGTERM/SIGINT: stop accepting, answer parked long polls,
// let writes finish (bounded), return from run().
//
// Hostile clients (issue 17): an upload (Api::is_upload) is authenticated from its headers
// before its body is read, and at most max_uploads are read at once. A parked long poll's
// socket is watched, so a client that hangs up is dropped at once (Api::abandon). Connections
// are capped below the fd limit (fd_reserve); at the cap, or when accept fails, the accept loop
// waits 250 ms instead of spinning and logs once per 10 s. HEAD gets the GET's headers and no
// body on every route. TLS 1.2 offers ECDHE with AEAD ciphers only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "server/api.h"

namespace noreboot::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free port (see HttpServer::port)
  int threads = 2;
  std::string tls_cert;    // PEM chain; empty: plain HTTP (allowed on loopback only)
  std::string tls_key;     // PEM private key
  int idle_seconds = 75;   // keep-alive idle timeout between requests
  int io_seconds = 60;     // timeout for reading one request / writing one response
  int max_uploads = 4;     // upload bodies (bundles, fix records) read at once; more: 503 + Retry-After
  int fd_reserve = 32;     // descriptors left free below RLIMIT_NOFILE; connections get the rest
  bool handle_signals = true;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> create(Api& api, const HttpServerOptions& options);
  virtual ~HttpServer() = default;
  virtual std::uint16_t port() const = 0;
  virtual void run() = 0;   // blocks until stop() or a signal
  virtual void stop() = 0;  // thread-safe
};

}  // namespace noreboot::server
