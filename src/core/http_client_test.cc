// http::Client against a local socket that accepts connections and never answers (a server
// holding a long poll): a stop request ends the transfer at once through the wake fd, and
// within the 500 ms stop-flag look without one.
#include "core/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace noreboot::http {
namespace {

struct SilentServer {
  SilentServer() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 8) == 0 &&
         ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd); }
  int fd = -1;
  int port = 0;
  bool ok = false;
};

double cancel_after(Client& client, std::atomic<bool>& stop, int wake_fd, std::string* message) {
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    if (wake_fd >= 0) {
      uint64_t one = 1;
      (void)!::write(wake_fd, &one, sizeof one);
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = client.post_json("/v1/checkin?wait=55", "{}", "credential", 70);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stopper.join();
  *message = r.ok() ? "answered" : r.error().message();
  return seconds;
}

TEST(HttpClient, StopWithWakeFdEndsALongPollAtOnce) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(efd, 0);
  std::atomic<bool> stop{false};
  Client client(ClientOptions{.base = "http://127.0.0.1:" + std::to_string(server.port), .stop = &stop, .wake_fd = efd});
  std::string message;
  double s = cancel_after(client, stop, efd, &message);
  EXPECT_NE(message.find("cancelled"), std::string::npos) << message;
  EXPECT_LT(s, 0.3 + 0.2) << "the transfer was not ended by the wake fd";
  ::close(efd);
}

TEST(HttpClient, StopWithoutWakeFdEndsALongPollWithinHalfASecond) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  std::atomic<bool> stop{false};
  Client client(ClientOptions{.base = "http://127.0.0.1:" + std::to_string(server.port), .stop = &stop, .wake_fd = -1});
  std::string message;
  double s = cancel_after(client, stop, -1, &message);
  EXPECT_NE(message.find("cancelled"), std::string::npos) << message;
  EXPECT_LT(s, 1.5);
}

// A server that answers any request with an endless 200 body (no Content-Length): the
// download must stop at the offered size, not at the timeout or a full disk.
TEST(HttpClient, DownloadIsCappedAtTheOfferedSize) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> sent{0};
  std::thread flood([&] {
    int c = ::accept(server.fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    (void)!::recv(c, buf, sizeof buf, 0);  // the request (its contents do not matter)
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
    (void)!::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    std::string chunk(64 * 1024, 'x');
    while (!done.load() && sent.load() < (512ULL << 20)) {  // at most 512 MiB, whatever happens
      ssize_t n = ::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::uint64_t>(n);
    }
    ::close(c);
  });
  auto dir = std::filesystem::temp_directory_path() / ("nr-dl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::atomic<bool> stop{false};
  Client client(ClientOptions{.base = "http://127.0.0.1:" + std::to_string(server.port), .stop = &stop, .wake_fd = -1});
  auto st = client.download("/v1/bundles/x", "nrh_test", dir / "b.nrp", std::string(64, 'a'), 100000, 120);
  done = true;
  flood.join();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::integrity) << st.error().message();
  EXPECT_NE(st.error().message().find("more than the offered 100000 bytes"), std::string::npos) << st.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir / "b.nrp.part")) << "the oversized part is discarded";
  EXPECT_LT(sent.load(), 256ULL << 20) << "the client read far past the offered size";
  std::filesystem::remove_all(dir);
}

// A whole answer that arrives in several pieces (libcurl calls the write function once per
// piece) is kept whole: every piece after the first is appended, never taken for a server that
// ignored a Range request (that bug cut the first piece off every bundle bigger than one read).
TEST(HttpClient, ADownloadInSeveralPiecesArrivesWhole) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  std::string body;
  for (int i = 0; i < 300000; ++i) body += static_cast<char>('a' + i % 23);
  std::thread serve([&] {
    int c = ::accept(server.fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    (void)!::recv(c, buf, sizeof buf, 0);
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    (void)!::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    for (std::size_t off = 0; off < body.size(); off += 7000) {  // small pieces, with pauses
      (void)!::send(c, body.data() + off, std::min<std::size_t>(7000, body.size() - off), MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::close(c);
  });
  auto dir = std::filesystem::temp_directory_path() / ("nr-dl-whole-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::atomic<bool> stop{false};
  Client client(ClientOptions{.base = "http://127.0.0.1:" + std::to_string(server.port), .stop = &stop, .wake_fd = -1});
  // A wrong hash on purpose: the error names how many bytes arrived, which must be all of them.
  auto st = client.download("/v1/bundles/x", "nrh_test", dir / "b.nrp", std::string(64, 'a'), body.size(), 120);
  serve.join();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("got " + std::to_string(body.size()) + " bytes"), std::string::npos)
      << st.error().message();
  std::filesystem::remove_all(dir);
}

// One request and its answer, seen from a server that records what arrived: the method, the
// bearer token, the content type and the body go out; status, body and headers (lowercase
// names) come back.
TEST(HttpClient, SendCarriesMethodHeadersAndBody) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  std::string request;
  std::thread serve([&] {
    int c = ::accept(server.fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[8192];
    while (request.find("payload") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string reply = "HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\nX-Thing: Yes\r\nConnection: close\r\n\r\n{}";
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  });
  Client client(ClientOptions{.base = "http://127.0.0.1:" + std::to_string(server.port), .user_agent = "nr-test/1"});
  auto r = client.send(Request{.method = "PUT", .path = "/v1/things/1", .body = "payload",
                               .content_type = "application/octet-stream", .bearer = "nra_secret",
                               .headers = {"X-Extra: 1"}, .timeout_seconds = 30});
  serve.join();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(r->body, "{}");
  EXPECT_EQ(r->headers["x-thing"], "Yes");
  for (const char* line : {"PUT /v1/things/1 HTTP/1.1", "Authorization: Bearer nra_secret",
                           "Content-Type: application/octet-stream", "X-Extra: 1", "User-Agent: nr-test/1"})
    EXPECT_NE(request.find(line), std::string::npos) << line << " not in:\n" << request;
}

// A reply larger than max_reply_bytes is abandoned with an error naming the URL and the cap.
TEST(HttpClient, ReplyIsCappedAtMaxReplyBytes) {
  SilentServer server;
  ASSERT_TRUE(server.ok);
  std::thread serve([&] {
    int c = ::accept(server.fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    (void)!::recv(c, buf, sizeof buf, 0);
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" + std::string(100000, 'x');
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  });
  std::string base = "http://127.0.0.1:" + std::to_string(server.port);
  Client client(ClientOptions{.base = base, .max_reply_bytes = 1000});
  auto r = client.send(Request{.path = "/big"});
  serve.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::refused);
  EXPECT_EQ(r.error().message(), "GET " + base + "/big: the reply is larger than 1000 bytes (abandoned)");
}

}  // namespace
}  // namespace noreboot::http
