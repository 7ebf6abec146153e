// The daemon (run_daemon, enroll, load_credential) against a scripted HTTP server on 127.0.0.1
// and the fake kernel: enrollment keeps a 0600 credential and will not silently replace it;
// one round applies an offer and reports it, reports a refused offer as failed, says
// "re-enroll" on a revoked credential; a stop request ends a long idle wait at once and
// records the clean shutdown for the crash-loop guard.
#include "agent/daemon.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/fake_kernel.h"
#include "agent/fs_util.h"
#include "agent/test_support.h"
#include "core/api_types.h"
#include "core/bundle.h"

namespace noreboot::agent {
namespace {

// One request as the scripted server saw it.
struct SeenRequest {
  std::string method, path, authorization, body;
};
struct Answer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// A one-connection-at-a-time HTTP/1.1 server: reads a request (headers and Content-Length
// body), records it, answers with the handler's Answer and closes the connection.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<Answer(const SeenRequest&)> handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bool ok = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0 &&
              ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    EXPECT_TRUE(ok) << "cannot listen on 127.0.0.1";
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  const std::string& url() const { return url_; }
  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_;
  }

 private:
  void serve() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;  // shut down
      std::string in;
      char buf[65536];
      size_t header_end = std::string::npos, want = 0;
      for (;;) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
          std::string lower = in.substr(0, header_end);
          for (auto& ch : lower) ch = static_cast<char>(::tolower(static_cast<unsigned char>(ch)));
          if (auto at = lower.find("content-length:"); at != std::string::npos)
            want = std::stoul(lower.substr(at + 15));
        }
        if (header_end != std::string::npos && in.size() >= header_end + 4 + want) break;
      }
      SeenRequest r;
      if (header_end != std::string::npos) {
        std::string head = in.substr(0, header_end);
        r.method = head.substr(0, head.find(' '));
        r.path = head.substr(r.method.size() + 1, head.find(' ', r.method.size() + 1) - r.method.size() - 1);
        if (auto at = head.find("Authorization: "); at != std::string::npos)
          r.authorization = head.substr(at + 15, head.find("\r\n", at) - at - 15);
        r.body = in.substr(header_end + 4);
        {
          std::lock_guard<std::mutex> g(mu_);
          seen_.push_back(r);
        }
        Answer a = handler_(r);
        std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Type: " + a.content_type +
                          "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" +
                          a.body;
        for (size_t off = 0; off < out.size();) {
          ssize_t n = ::write(c, out.data() + off, out.size() - off);
          if (n <= 0) break;
          off += static_cast<size_t>(n);
        }
      }
      ::close(c);
    }
  }

  std::function<Answer(const SeenRequest&)> handler_;
  int fd_ = -1;
  std::string url_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FakeKernel::create(dir.path() / "root", host).ok());
    ctx.root = dir.path() / "root";
    ctx.kernel = &kernel;
    ctx.store = StateStore(dir.path() / "state");
    ctx.config.transition_seconds = 5;
    ctx.config.signal_seconds = 1;
    ctx.config.reverse_seconds = 5;
    ctx.config.watch_seconds = 0;
    ctx.trust.add(key.public_key());
    ASSERT_TRUE(ctx.store.init().ok());
  }

  Bytes bundle(const std::string& name, uint64_t seq, const std::string& build_id) {
    Manifest m;
    m.name = name;
    m.sequence = seq;
    m.kernel = KernelIdentity{host.release, host.version, build_id, host.arch};
    m.builder_version = "test";
    auto b = build_bundle(m, as_bytes(testing::make_module_bytes(name, true, "code")), key);
    EXPECT_TRUE(b.ok()) << b.error().message();
    return b.ok() ? *b : Bytes{};
  }

  void write_credential(const std::string& server) {
    ASSERT_TRUE(write_text(ctx.store.credential_path(),
                           "{\"server\": \"" + server +
                               "\", \"host_id\": \"h_1\", \"credential\": \"nrh_secret\", \"enrolled_at\": 1}\n",
                           {.mode = 0600})
                    .ok());
  }

  // A server that offers `b` once, serves it, and accepts reports.
  std::function<Answer(const SeenRequest&)> offering(const Bytes& b, const std::string& name) {
    std::string sha = sha256_hex(b);
    std::string bytes(b.begin(), b.end());
    return [=](const SeenRequest& r) -> Answer {
      if (r.path.rfind("/v1/checkin", 0) == 0) {
        api::CheckinResponse c;
        c.host_id = "h_1";
        c.offer = api::Offer{sha, "/v1/bundles/" + sha, sha, bytes.size(), 3, name, "r_1"};
        return {200, api::to_json(c)};
      }
      if (r.path == "/v1/bundles/" + sha) return {200, bytes, "application/octet-stream"};
      if (r.path == "/v1/report") return {200, api::to_json(api::ReportResponse{})};
      return {404, "{}"};
    };
  }

  static std::optional<api::ReportRequest> last_report(const std::vector<SeenRequest>& seen) {
    std::optional<api::ReportRequest> out;
    for (const auto& r : seen)
      if (r.path == "/v1/report") {
        auto p = api::parse_report_request(r.body);
        EXPECT_TRUE(p.ok()) << r.body;
        if (p.ok()) out = *p;
      }
    return out;
  }

  testing::TempDir dir;
  FakeHost host;
  FakeKernel kernel{dir.path() / "root"};
  SecretKey key = SecretKey::generate("test publisher");
  AgentContext ctx;
  std::atomic<bool> stop{false};
};

TEST_F(DaemonTest, LoadCredentialNamesWhatIsWrongAndWhatToDo) {
  auto missing = load_credential(ctx.store);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("noreboot enroll --token"), std::string::npos) << missing.error().message();

  ASSERT_TRUE(write_text(ctx.store.credential_path(), "{not json", {.mode = 0600}).ok());
  auto garbled = load_credential(ctx.store);
  ASSERT_FALSE(garbled.ok());
  EXPECT_NE(garbled.error().message().find("is not valid JSON: enroll again with --force"), std::string::npos);

  ASSERT_TRUE(write_text(ctx.store.credential_path(), "{\"server\": \"http://x\"}", {.mode = 0600}).ok());
  auto partial = load_credential(ctx.store);
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().message().find("lacks server, host_id or credential"), std::string::npos);

  write_credential("http://127.0.0.1:1");
  auto good = load_credential(ctx.store);
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_EQ(good->host_id, "h_1");
  EXPECT_EQ(good->credential, "nrh_secret");
}

TEST_F(DaemonTest, EnrollKeepsA0600CredentialAndReplacesItOnlyWithForce) {
  ScriptedServer server([](const SeenRequest& r) -> Answer {
    if (r.method != "POST" || r.path != "/v1/enroll") return {404, "{}"};
    auto req = api::parse_enroll_request(r.body);
    if (!req.ok() || req->token != "nre_token") return {401, "{\"error\": {\"code\": \"unauthorized\", \"message\": \"bad token\"}}"};
    return {201, api::to_json(api::EnrollResponse{"h_42", "nrh_new", "web", {"db"}})};
  });
  EnrollOptions o;
  o.server = server.url() + "/";
  o.token = "nre_token";
  o.hostname = "db-1";
  auto c = enroll(ctx, o);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server, server.url());  // the trailing slash dropped
  struct stat st {};
  ASSERT_EQ(::stat(ctx.store.credential_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = load_credential(ctx.store);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->host_id, "h_42");
  EXPECT_EQ(back->group, "web");
  // The request carried the host's exact kernel and name.
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  auto req = api::parse_enroll_request(seen[0].body);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->kernel.build_id, host.build_id_hex);
  EXPECT_EQ(req->hostname, "db-1");

  auto again = enroll(ctx, o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::conflict);
  EXPECT_NE(again.error().message().find("--force"), std::string::npos);
  EXPECT_EQ(server.seen().size(), 1u);  // refused before asking the server

  o.force = true;
  o.token = "nre_wrong";
  auto refused = enroll(ctx, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::refused);
  EXPECT_EQ(load_credential(ctx.store)->host_id, "h_42");  // a refused enrollment keeps the old credential
}

TEST_F(DaemonTest, OneRoundAppliesTheOfferAndReportsItApplied) {
  Bytes b = bundle("lp_daemon", 3, host.build_id_hex);
  ScriptedServer server(offering(b, "lp_daemon"));
  write_credential(server.url());
  DaemonOptions o;
  o.once = true;
  Status s = run_daemon(ctx, o, stop);
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto p = kernel.livepatch("lp_daemon");
  ASSERT_TRUE(p.ok() && p->has_value() && (*p)->enabled) << "the offered patch is not live";

  auto seen = server.seen();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0].path, "/v1/checkin");  // once: no long poll
  for (const auto& r : seen) EXPECT_EQ(r.authorization, "Bearer nrh_secret") << r.path;
  auto report = last_report(seen);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->state, api::AgentState::applied);
  EXPECT_EQ(report->bundle_sha256, sha256_hex(b));
  EXPECT_EQ(report->host_id, "h_1");
  ASSERT_TRUE(report->applied.has_value());
  EXPECT_EQ(report->applied->name, "lp_daemon");
  // Nothing of the download is left behind.
  EXPECT_FALSE(std::filesystem::exists(ctx.store.dir() / "bundles" / (sha256_hex(b) + ".nrp")));
}

TEST_F(DaemonTest, ARefusedOfferIsReportedFailedWithTheReason) {
  Bytes b = bundle("lp_other_kernel", 3, "ffffffffffffffffffffffffffffffffffffffff");
  ScriptedServer server(offering(b, "lp_other_kernel"));
  write_credential(server.url());
  DaemonOptions o;
  o.once = true;
  ASSERT_TRUE(run_daemon(ctx, o, stop).ok());
  auto p = kernel.livepatch("lp_other_kernel");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value()) << "a bundle for another kernel was loaded";
  auto report = last_report(server.seen());
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->state, api::AgentState::failed);
  ASSERT_FALSE(report->errors.empty());
  EXPECT_NE(report->errors[0].find("build ID"), std::string::npos) << report->errors[0];
}

TEST_F(DaemonTest, ARevokedCredentialSaysReEnroll) {
  ScriptedServer server([](const SeenRequest&) -> Answer {
    return {401, "{\"error\": {\"code\": \"unauthorized\", \"message\": \"host credential revoked\"}}"};
  });
  write_credential(server.url());
  DaemonOptions o;
  o.once = true;
  Status s = run_daemon(ctx, o, stop);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("noreboot enroll --force"), std::string::npos) << s.error().message();
  auto state = ctx.store.load_state();
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->last_checkin_result.find("401"), std::string::npos) << state->last_checkin_result;
  EXPECT_EQ(state->last_checkin, 0);  // a refused check-in is not a check-in
}

TEST_F(DaemonTest, StopEndsAnIdleWaitAndRecordsTheCleanShutdown) {
  std::atomic<int> checkins{0};
  ScriptedServer server([&](const SeenRequest& r) -> Answer {
    if (r.path.rfind("/v1/checkin", 0) != 0) return {404, "{}"};
    ++checkins;
    api::CheckinResponse c;
    c.host_id = "h_1";
    c.next_checkin_seconds = 3600;
    return {200, api::to_json(c)};
  });
  write_credential(server.url());
  ctx.config.long_poll_seconds = 0;
  ctx.config.interval_seconds = 3600;
  ctx.config.jitter_seconds = 0;
  int wake = ::eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  DaemonOptions o;
  o.wake_fd = wake;
  Status result;
  std::thread daemon([&] { result = run_daemon(ctx, o, stop); });
  for (int i = 0; i < 600 && checkins.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(checkins.load(), 1);
  auto t0 = std::chrono::steady_clock::now();
  stop = true;
  uint64_t one = 1;
  ASSERT_EQ(::write(wake, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  daemon.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(wake);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_LT(seconds, 60) << "the daemon slept through the stop request";  // it would sleep an hour
  EXPECT_EQ(ctx.store.clean_shutdown_boot(), host.boot_id);
  EXPECT_EQ(checkins.load(), 1);
}

}  // namespace
}  // namespace noreboot::agent
