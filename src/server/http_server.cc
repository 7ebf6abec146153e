// HttpServer over Boost.Beast (see http_server.h for the design).
#include "server/http_server.h"

#include <dirent.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <limits>
#include <thread>
#include <vector>

#include "core/log.h"

namespace noreboot::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Counts the server and its sessions share (a session may outlive the server's run()).
struct Counters {
  std::atomic<int> connections{0};  // sessions alive: each holds one descriptor
  std::atomic<int> uploads{0};      // upload bodies being read or handled
};

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(Api& api, const HttpServerOptions& opt, std::shared_ptr<Counters> counters, std::uint64_t id, Args&&... args)
      : api_(api), opt_(opt), counters_(std::move(counters)), id_(id), stream_(std::forward<Args>(args)...) {
    counters_->connections++;
  }
  ~Session() {
    release_upload_slot();
    counters_->connections--;
  }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(opt_.io_seconds));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read_header();
                              });
    } else {
      net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->read_header(); });
    }
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    // Beast refuses a too-large Content-Length already while reading the header; lift the
    // limit here and apply the route's own in on_header, where we can answer 413.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // not boost::none: 1.74 compares optionals wrongly
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(opt_.idle_seconds));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_and_close(413, "request body exceeds the limit");
    if (ec) return close(ec == http::error::header_limit ? 431 : 0);
    auto& h = parser_->get();
    head_request_ = h.method() == http::verb::head;
    std::string method(h.method_string());
    std::string target(h.target());
    std::string path = percent_decode(target.substr(0, target.find('?')));
    std::size_t limit = api_.body_limit(method, path);
    parser_->body_limit(limit);
    if (api_.is_upload(method, path)) {
      // Who is asking, from the headers alone: a client without a valid admin token gets its
      // 401 now, and its body is never buffered (drain_and_close discards it).
      if (auto refused = api_.admit(make_request(h))) return reply_and_close(std::move(*refused));
    }
    if (parser_->content_length() && *parser_->content_length() > limit) {
      api_.count_request(path, 413);
      return reply_and_close(413, "body of " + std::to_string(*parser_->content_length()) +
                                      " bytes exceeds the limit of " + std::to_string(limit) + " for " + path);
    }
    if (api_.is_upload(method, path) && !take_upload_slot()) {
      api_.count_request(path, 503);
      HttpResponse busy;
      busy.status = 503;
      busy.body = api::to_json(api::ApiError{
          "unavailable", std::to_string(opt_.max_uploads) +
                             " uploads are being received already (the server's max_uploads); retry in a few seconds"});
      busy.headers.emplace_back("Retry-After", "5");
      return reply_and_close(std::move(busy));
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(opt_.io_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  // The request line and headers as the Api sees them (no body yet).
  template <typename Header>
  HttpRequest make_request(const Header& m) {
    HttpRequest req;
    req.method = std::string(m.method_string());
    req.target = std::string(m.target());
    auto q = req.target.find('?');
    req.path = percent_decode(req.target.substr(0, q));
    if (q != std::string::npos) req.query = parse_query(std::string_view(req.target).substr(q + 1));
    for (const auto& f : m) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    beast::error_code rec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(rec);
    if (!rec) req.remote = ep.address().to_string();
    req.connection = id_;
    return req;
  }

  bool take_upload_slot() {
    if (counters_->uploads.fetch_add(1) >= opt_.max_uploads) {
      counters_->uploads--;
      return false;
    }
    upload_slot_ = true;
    return true;
  }
  void release_upload_slot() {
    if (upload_slot_) counters_->uploads--;
    upload_slot_ = false;
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_and_close(413, "request body exceeds the limit for this route");
    if (ec) return close(0);
    auto& m = parser_->get();
    HttpRequest req = make_request(m);
    req.body = std::move(m.body());
    keep_alive_ = m.keep_alive();
    version_ = m.version();
    // A long poll may stay parked for minutes: watch its socket meanwhile, so a client that
    // leaves frees its descriptor (and its waiter) at once rather than at the deadline.
    bool may_park = req.method == "POST" && req.query.count("wait") > 0;
    // The Api may answer later (long poll), from another thread: hop back to this strand.
    api_.handle(std::move(req), [self = this->shared_from_this()](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    });
    answered_ = false;
    if (may_park) watch_client();
  }

  // ---- a parked request's client: still there? ----
  void watch_client() {
    watching_ = true;
    beast::get_lowest_layer(stream_).socket().async_wait(
        tcp::socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) { self->on_client_stirred(ec); });
  }
  void on_client_stirred(beast::error_code ec) {
    if (!watching_ || answered_ || ec == net::error::operation_aborted) return;
    if (!ec && !peer_hung_up()) {
      // Bytes without a hang-up (a pipelined request, a TLS record): the client is there.
      // Readable stays readable, so look again in a second rather than at once.
      if (!watch_timer_) watch_timer_ = std::make_unique<net::steady_timer>(stream_.get_executor());
      watch_timer_->expires_after(std::chrono::seconds(1));
      watch_timer_->async_wait([self = this->shared_from_this()](beast::error_code e) {
        if (!e) self->on_client_stirred({});
      });
      return;
    }
    watching_ = false;
    api_.abandon(id_);
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }
  bool peer_hung_up() {
    pollfd p{};
    p.fd = beast::get_lowest_layer(stream_).socket().native_handle();
    p.events = POLLIN | POLLRDHUP;
    if (::poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }
  void stop_watching() {
    answered_ = true;
    if (!watching_) return;
    watching_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().cancel(ignored);
    if (watch_timer_) watch_timer_->cancel();
  }

  void write(HttpResponse r) {
    stop_watching();
    release_upload_slot();
    if (head_request_) r.head_only = true;  // HEAD: the GET's headers, no body, on every route
    if (r.shared_body) {
      auto data = std::move(r.shared_body);
      auto res = std::make_shared<http::response<http::span_body<const char>>>();
      if (r.head_only) {
        prepare(*res, r);
        res->content_length(data->size());
      } else {
        res->body() = http::span_body<const char>::value_type(data->data(), data->size());
        prepare(*res, r);
        res->prepare_payload();
      }
      return send(std::move(res), std::move(data));
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    if (r.head_only) {
      prepare(*res, r);
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      prepare(*res, r);
      res->prepare_payload();
    }
    send(std::move(res), nullptr);
  }

  template <typename Response>
  void prepare(Response& res, const HttpResponse& r) {
    res.version(version_);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::server, "noreboot-server");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive_);
  }

  // `keep` holds shared body bytes alive until the write is done.
  template <typename Response>
  void send(std::shared_ptr<Response> res, std::shared_ptr<const std::string> keep) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(opt_.io_seconds));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
      if (ec) return self->close(0);
      if (!res->keep_alive()) return self->drain_and_close();
      self->read_header();
    });
  }

  void reply_and_close(int status, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.body = api::to_json(api::ApiError{status == 413 ? "too_large" : "invalid_input", message});
    reply_and_close(std::move(r));
  }
  // Answers before (or instead of) reading the body; the connection is not reused.
  void reply_and_close(HttpResponse r) {
    keep_alive_ = false;
    version_ = 11;
    write(std::move(r));
  }

  // After an early answer (413) the client may still be sending its body: stop writing,
  // read and discard what comes for a bounded time, then close. Closing with unread data
  // would reset the connection and the client would never see the answer.
  void drain_and_close() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      return close(0);
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.expires_after(std::chrono::seconds(5));
      drain_budget_ = 128u << 20;
      drain();
    }
  }
  void drain() {
    if constexpr (!std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      if (!drain_buf_) drain_buf_ = std::make_unique<std::array<char, 16384>>();
      stream_.async_read_some(net::buffer(*drain_buf_), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec || n >= self->drain_budget_) return self->close(0);
        self->drain_budget_ -= n;
        self->drain();
      });
    }
  }

  void close(int status) {
    if (status == 431) return reply_and_close(431, "request header larger than 16 KiB");
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code e2;
        beast::get_lowest_layer(self->stream_).socket().close(e2);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.socket().close(ec);
    }
  }

  Api& api_;
  const HttpServerOptions& opt_;
  std::shared_ptr<Counters> counters_;
  std::uint64_t id_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool head_request_ = false;
  bool upload_slot_ = false;
  bool watching_ = false;               // a parked request: its socket is watched for a hang-up
  bool answered_ = true;                // the current request's answer is on its way
  std::unique_ptr<net::steady_timer> watch_timer_;
  std::unique_ptr<std::array<char, 16384>> drain_buf_;
  std::size_t drain_budget_ = 0;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(Api& api, HttpServerOptions opt)
      : api_(api), opt_(std::move(opt)), ioc_(std::max(1, opt_.threads)), acceptor_(net::make_strand(ioc_)),
        accept_timer_(acceptor_.get_executor()), tick_strand_(net::make_strand(ioc_)), ticker_(tick_strand_), stop_timer_(ioc_), signals_(ioc_), ssl_ctx_(ssl::context::tls_server) {}

  Status init() {
    beast::error_code ec;
    auto addr = net::ip::make_address(opt_.address, ec);
    if (ec) return Error(Errc::invalid_argument, "listen address '" + opt_.address + "': " + ec.message());
    if (opt_.tls_cert.empty() != opt_.tls_key.empty())
      return Error(Errc::invalid_argument, "TLS needs both tls_cert and tls_key");
    tls_ = !opt_.tls_cert.empty();
    if (!tls_ && !addr.is_loopback())
      return Error(Errc::invalid_argument, "plain HTTP is only allowed on a loopback address; configure tls_cert "
                                           "and tls_key to listen on " + opt_.address);
    if (tls_) {
      ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      // TLS 1.2: forward secrecy (ECDHE) and AEAD ciphers only, the server's order first.
      // TLS 1.3 suites are all of that kind and stay as OpenSSL has them.
      SSL_CTX_set_options(ssl_ctx_.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
      if (SSL_CTX_set_cipher_list(ssl_ctx_.native_handle(), kTls12Ciphers) != 1)
        return Error(Errc::internal, std::string("OpenSSL accepts none of the TLS 1.2 suites ") + kTls12Ciphers);
      warn_if_key_readable(opt_.tls_key);
      ssl_ctx_.use_certificate_chain_file(opt_.tls_cert, ec);
      if (ec) return Error(Errc::invalid_argument, "tls_cert " + opt_.tls_cert + ": " + ec.message());
      ssl_ctx_.use_private_key_file(opt_.tls_key, ssl::context::pem, ec);
      if (ec) return Error(Errc::invalid_argument, "tls_key " + opt_.tls_key + ": " + ec.message());
    }
    tcp::endpoint ep(addr, opt_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(4096, ec);
    if (ec) return Error(Errc::io, "listen on " + opt_.address + ":" + std::to_string(opt_.port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    NR_TRY_STATUS(compute_connection_limit());
    return ok_status();
  }

  std::uint16_t port() const override { return port_; }

  void run() override {
    accept();
    // Early ticks (a publish, a failure report) run on the ticker's strand, one at a time.
    api_.set_wakeup([this] {
      if (!wake_pending_.exchange(true))
        net::post(tick_strand_, [this] {
          wake_pending_ = false;
          if (!stopping_) api_.tick();
        });
    });
    tick();
    if (opt_.handle_signals) {
      signals_.add(SIGTERM);
      signals_.add(SIGINT);
      signals_.async_wait([this](beast::error_code ec, int sig) {
        if (!ec) {
          log::info("signal {}: stopping", sig);
          stop();
        }
      });
    }
    std::vector<std::thread> threads;
    for (int i = 1; i < std::max(1, opt_.threads); ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    // Writes still queued answer into this (stopped, still alive) io_context, not a freed one.
    api_.set_wakeup(nullptr);
    api_.release_waiters();
  }

  void stop() override {
    net::post(ioc_, [this] {
      if (stopping_) return;
      stopping_ = true;
      beast::error_code ec;
      acceptor_.close(ec);
      signals_.cancel(ec);
      api_.release_waiters();  // parked long polls get "nothing" now
      // Give in-flight responses a moment, then stop the loop.
      stop_timer_.expires_after(std::chrono::milliseconds(300));
      stop_timer_.async_wait([this](beast::error_code) { ioc_.stop(); });
    });
  }

 private:
  // The accept loop (on the acceptor's strand). At the connection limit, or when accept fails
  // (EMFILE, ENFILE, ENOBUFS), it does not spin: it waits kAcceptBackoff and tries again, and
  // says so at most once per kLimitLogInterval. Clients meanwhile wait in the listen backlog and
  // are served as soon as connections close.
  void accept() {
    if (stopping_) return;
    if (counters_->connections.load() >= max_connections_) {
      note_limit("connection limit reached: " + std::to_string(max_connections_) +
                 " connections open (fd limit minus fd_reserve); new clients wait until some close");
      return accept_later();
    }
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket sock) {
      if (stopping_ || !acceptor_.is_open()) return;
      if (!ec) {
        sock.set_option(tcp::no_delay(true), ec);
        std::uint64_t id = ++next_connection_;
        if (tls_)
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(api_, opt_, counters_, id, std::move(sock),
                                                                         ssl_ctx_)->start();
        else
          std::make_shared<Session<beast::tcp_stream>>(api_, opt_, counters_, id, std::move(sock))->start();
      } else if (ec != net::error::connection_aborted) {
        note_limit("accept: " + ec.message() + (ec == net::error::no_descriptors ? "; raise the fd limit (ulimit -n, "
                                                                                   "LimitNOFILE=) or lower the load"
                                                                                 : ""));
        return accept_later();
      }
      accept();
    });
  }
  void accept_later() {
    accept_timer_.expires_after(kAcceptBackoff);
    accept_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) accept();
    });
  }
  // Logs `what` at most once per interval, with how often it happened in between.
  void note_limit(const std::string& what) {
    auto now = std::chrono::steady_clock::now();
    if (limit_logged_ && now - last_limit_log_ < kLimitLogInterval) {
      ++limit_unlogged_;
      return;
    }
    if (limit_unlogged_ > 0)
      log::warn("{} (and {} more times in the last {} s)", what, limit_unlogged_,
                std::chrono::duration_cast<std::chrono::seconds>(now - last_limit_log_).count());
    else
      log::warn("{}", what);
    limit_logged_ = true;
    last_limit_log_ = now;
    limit_unlogged_ = 0;
  }

  // Connections may use what the fd limit leaves after the descriptors open now (store, logs,
  // listener) and a reserve for later ones (database reconnects, files): the accept loop never
  // takes the last descriptors the rest of the server needs.
  Status compute_connection_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
      max_connections_ = INT_MAX;
      return ok_status();
    }
    long open_now = count_open_descriptors();
    long limit = static_cast<long>(std::min<rlim_t>(rl.rlim_cur, INT_MAX));
    long room = limit - open_now - opt_.fd_reserve;
    if (room < 4)
      return Error(Errc::invalid_argument,
                   "the fd limit " + std::to_string(limit) + " leaves " + std::to_string(std::max(0L, room)) +
                       " descriptors for connections (" + std::to_string(open_now) + " open, fd_reserve " +
                       std::to_string(opt_.fd_reserve) + "); raise it (ulimit -n, LimitNOFILE=) or lower fd_reserve");
    max_connections_ = static_cast<int>(room);
    log::info("serving up to {} connections (fd limit {}, {} open, fd_reserve {})", max_connections_, limit, open_now,
              opt_.fd_reserve);
    return ok_status();
  }
  static long count_open_descriptors() {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return 64;  // no /proc: assume a typical number
    long n = 0;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n - 1;  // the directory itself
  }
  // World-readable, or readable by a group that is not the server's own (0640 root:noreboot
  // is the documented way to let the server read it): warn, do not refuse.
  static void warn_if_key_readable(const std::string& key) {
    struct stat st {};
    if (::stat(key.c_str(), &st) != 0) return;  // use_private_key_file names a missing file
    bool world = (st.st_mode & S_IROTH) != 0;
    bool foreign_group = (st.st_mode & S_IRGRP) != 0 && st.st_gid != ::getegid();
    if (!world && !foreign_group) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    log::warn("tls_key {} is readable by {} (mode {}): whoever can read it can impersonate this server; "
              "chmod 600 it, or 640 with the server's group", key, world ? "everyone" : "another group", mode);
  }

  void tick() {
    if (stopping_) return;
    api_.tick();
    ticker_.expires_after(std::chrono::milliseconds(250));
    ticker_.async_wait([this](beast::error_code ec) {
      if (!ec) tick();
    });
  }

  static constexpr auto kAcceptBackoff = std::chrono::milliseconds(250);
  static constexpr auto kLimitLogInterval = std::chrono::seconds(10);
  static constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";

  Api& api_;
  HttpServerOptions opt_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  int max_connections_ = INT_MAX;
  std::uint64_t next_connection_ = 0;  // acceptor strand only
  bool limit_logged_ = false;
  std::chrono::steady_clock::time_point last_limit_log_;
  std::uint64_t limit_unlogged_ = 0;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_timer_;
  net::strand<net::io_context::executor_type> tick_strand_;
  net::steady_timer ticker_;
  std::atomic<bool> wake_pending_{false};
  net::steady_timer stop_timer_;
  net::signal_set signals_;
  ssl::context ssl_ctx_;
  bool tls_ = false;
  std::atomic<bool> stopping_{false};
  std::uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::create(Api& api, const HttpServerOptions& options) {
  auto s = std::make_unique<BeastServer>(api, options);
  NR_TRY_STATUS(s->init());
  return std::unique_ptr<HttpServer>(std::move(s));
}

}  // namespace noreboot::server
