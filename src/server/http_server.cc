// HttpServer over Boost.Beast (see http_server.h for the design).
#include "server/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
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

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(Api& api, const HttpServerOptions& opt, Args&&... args)
      : api_(api), opt_(opt), stream_(std::forward<Args>(args)...) {}

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
    std::string target(h.target());
    std::string path = target.substr(0, target.find('?'));
    std::size_t limit = api_.body_limit(std::string(h.method_string()), path);
    parser_->body_limit(limit);
    if (parser_->content_length() && *parser_->content_length() > limit)
      return reply_and_close(413, "body of " + std::to_string(*parser_->content_length()) +
                                      " bytes exceeds the limit of " + std::to_string(limit) + " for " + path);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(opt_.io_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_and_close(413, "request body exceeds the limit for this route");
    if (ec) return close(0);
    auto& m = parser_->get();
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
    req.body = std::move(m.body());
    beast::error_code rec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(rec);
    if (!rec) req.remote = ep.address().to_string();
    keep_alive_ = m.keep_alive();
    version_ = m.version();
    // The Api may answer later (long poll), from another thread: hop back to this strand.
    api_.handle(std::move(req), [self = this->shared_from_this()](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    });
  }

  void write(HttpResponse r) {
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
    keep_alive_ = false;
    version_ = 11;
    HttpResponse r;
    r.status = status;
    r.body = api::to_json(api::ApiError{status == 413 ? "too_large" : "invalid_input", message});
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
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::unique_ptr<std::array<char, 16384>> drain_buf_;
  std::size_t drain_budget_ = 0;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(Api& api, HttpServerOptions opt)
      : api_(api), opt_(std::move(opt)), ioc_(std::max(1, opt_.threads)), acceptor_(net::make_strand(ioc_)),
        tick_strand_(net::make_strand(ioc_)), ticker_(tick_strand_), stop_timer_(ioc_), signals_(ioc_), ssl_ctx_(ssl::context::tls_server) {}

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
  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket sock) {
      if (stopping_ || !acceptor_.is_open()) return;
      if (!ec) {
        sock.set_option(tcp::no_delay(true), ec);
        if (tls_)
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(api_, opt_, std::move(sock), ssl_ctx_)->start();
        else
          std::make_shared<Session<beast::tcp_stream>>(api_, opt_, std::move(sock))->start();
      } else if (ec == net::error::no_descriptors) {
        log::warn("accept: out of file descriptors; raise the limit (ulimit -n)");
      }
      accept();
    });
  }

  void tick() {
    if (stopping_) return;
    api_.tick();
    ticker_.expires_after(std::chrono::milliseconds(250));
    ticker_.async_wait([this](beast::error_code ec) {
      if (!ec) tick();
    });
  }

  Api& api_;
  HttpServerOptions opt_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
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
