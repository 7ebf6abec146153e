// The API over real HTTP on 127.0.0.1: a server (SQLite store in a temp dir, an injected
// clock) runs in a thread; a libcurl client plays agents and administrators. Bundles are
// built and signed at test time with a freshly generated publisher key.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/bundle.h"
#include "core/failpoint.h"
#include "core/fix_record.h"
#include "core/keys.h"
#include "server/api.h"
#include "server/bundle_check.h"
#include "server/dashboard_session.h"
#include "server/http_server.h"
#include "server/rollout.h"
#include "server/test_client.h"

namespace noreboot::server {
namespace {

using nlohmann::json;
using testing::Client;
using testing::Reply;

bool failpoint_compiled_in() { return failpoint::kCompiledIn; }

const std::string kBuild = "4a5b6c7d8e9f00112233445566778899aabbccdd";
const std::string kRelease = "6.1.0-56-amd64";

std::string kernel_json(const std::string& build = kBuild) {
  return json{{"release", kRelease}, {"version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1"},
              {"build_id", build}, {"arch", "x86_64"}}.dump();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nr-http-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    key_ = SecretKey::generate("test publisher");
    std::ofstream(dir_ / "pub.pub") << format_public_key(key_.public_key());
    auto s = open_sqlite_store((dir_ / "data").string());
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = std::move(s).value();
    auto v = make_bundle_verifier({(dir_ / "pub.pub").string()});
    ASSERT_TRUE(v.ok()) << v.error().message();
    auto fv = make_fix_record_verifier({(dir_ / "pub.pub").string()});
    ASSERT_TRUE(fv.ok()) << fv.error().message();
    ApiOptions opt;
    opt.max_bundle_body = 1 << 20;
    api_ = std::make_unique<Api>(*store_, *v, *fv, opt, [this] { return now_.load(); });
    auto tok = api_->bootstrap_admin_token();
    ASSERT_TRUE(tok.ok());
    admin_ = *tok;
    HttpServerOptions hopt;
    hopt.handle_signals = false;
    auto srv = HttpServer::create(*api_, hopt);
    ASSERT_TRUE(srv.ok()) << srv.error().message();
    server_ = std::move(srv).value();
    thread_ = std::thread([this] { server_->run(); });
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<Client>(base_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    client_.reset();
    server_.reset();
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Reply req(const std::string& m, const std::string& path, const std::string& body = "",
            const std::string& token = "", const std::vector<std::string>& headers = {}) {
    return client_->request(m, path, body, token, headers);
  }

  std::string bundle(const std::string& name, std::uint64_t seq, const std::string& build = kBuild,
                     const SecretKey* key = nullptr) {
    Manifest m;
    m.name = name;
    m.sequence = seq;
    m.kernel = {kRelease, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1", build, "x86_64"};
    m.module.vermagic = "6.1.0-56-amd64 SMP preempt mod_unload modversions";
    m.builder_version = "test";
    m.created = "2026-11-23T00:00:00Z";
    std::string module = "\x7f" "ELF fake module bytes for " + name + std::to_string(seq);
    auto b = build_bundle(m, as_bytes(module), key ? *key : key_);
    EXPECT_TRUE(b.ok()) << b.error().message();
    return std::string(b->begin(), b->end());
  }

  std::string publish(const std::string& nrp) {
    auto r = req("POST", "/v1/bundles", nrp, admin_, {"Content-Type: application/octet-stream"});
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    return json::parse(r.body).value("sha256", "");
  }

  std::string enroll_token(const std::string& group, std::int64_t ttl = 3600, int max_uses = 0) {
    auto r = req("POST", "/v1/tokens/enrollment",
                 json{{"group", group}, {"ttl_seconds", ttl}, {"max_uses", max_uses}, {"tags", {"eu"}}}.dump(), admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["token"];
  }

  struct Host { std::string id, credential; };
  Host enroll(const std::string& token, const std::string& hostname = "web-1", const std::string& build = kBuild) {
    auto r = req("POST", "/v1/enroll",
                 json{{"token", token}, {"hostname", hostname}, {"kernel", json::parse(kernel_json(build))}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json::parse(r.body);
    return {j["host_id"], j["credential"]};
  }

  std::string checkin_body(const std::string& build = kBuild, std::optional<std::pair<std::uint64_t, std::string>> applied = {}) {
    json a = nullptr;
    if (applied) a = {{"name", "nr_fix"}, {"sequence", applied->first}, {"bundle_sha256", applied->second}};
    return json{{"kernel", json::parse(kernel_json(build))}, {"applied", a}, {"state", applied ? "applied" : "idle"},
                {"agent_version", "test"}}.dump();
  }

  std::string rollout(const std::string& sha, const json& stages, const json& groups = json::array()) {
    auto r = req("POST", "/v1/rollouts", json{{"bundle_sha256", sha}, {"groups", groups}, {"stages", stages}}.dump(), admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", "");
  }

  static std::string error_code(const Reply& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<no JSON error body: " + r.body.substr(0, 200) + ">";
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    return j["error"]["code"];
  }

  std::filesystem::path dir_;
  SecretKey key_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::string base_, admin_;
  std::unique_ptr<Client> client_;
  std::atomic<std::int64_t> now_{1795000000};
};

TEST_F(ServerTest, HealthAndMetrics) {
  auto h = req("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body)["status"], "ok");
  auto m = req("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("noreboot_http_requests_total{route=\"/healthz\",code=\"200\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("noreboot_longpoll_waiting 0"), std::string::npos);
}

TEST_F(ServerTest, EnrollmentTokensExpireAndRevoke) {
  std::string tok = enroll_token("web", 100, 0);
  Host h = enroll(tok);
  EXPECT_EQ(h.id.size(), 26u);
  EXPECT_EQ(h.credential.rfind("nrh_", 0), 0u);
  auto hj = json::parse(req("GET", "/v1/hosts/" + h.id, "", admin_).body);
  EXPECT_EQ(hj["group"], "web");
  EXPECT_EQ(hj["history"][0]["kind"], "enrolled");

  auto bad = req("POST", "/v1/enroll", json{{"token", "nre_000"}, {"hostname", "x"}, {"kernel", json::parse(kernel_json())}}.dump());
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(error_code(bad), "unauthorized");
  now_ += 100;  // expired
  auto expired = req("POST", "/v1/enroll", json{{"token", tok}, {"hostname", "y"}, {"kernel", json::parse(kernel_json())}}.dump());
  EXPECT_EQ(expired.status, 401);
  std::string tok2 = enroll_token("db");
  auto list = json::parse(req("GET", "/v1/tokens/enrollment", "", admin_).body);
  std::string id2 = list["tokens"][1]["id"];
  EXPECT_EQ(req("DELETE", "/v1/tokens/enrollment/" + id2, "", admin_).status, 200);
  auto revoked = req("POST", "/v1/enroll", json{{"token", tok2}, {"hostname", "z"}, {"kernel", json::parse(kernel_json())}}.dump());
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(json::parse(req("GET", "/v1/hosts", "", admin_).body)["total"], 1);
}

TEST_F(ServerTest, AdminRolesAndBadTokens) {
  EXPECT_EQ(req("GET", "/v1/fleet").status, 401);
  EXPECT_EQ(req("GET", "/v1/fleet", "", "nra_nonsense").status, 401);
  auto ro = req("POST", "/v1/tokens/admin", json{{"name", "viewer"}, {"role", "read"}}.dump(), admin_);
  ASSERT_EQ(ro.status, 201) << ro.body;
  std::string read_token = json::parse(ro.body)["token"];
  EXPECT_EQ(req("GET", "/v1/fleet", "", read_token).status, 200);
  auto denied = req("POST", "/v1/bundles", bundle("nr_fix", 1), read_token);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "forbidden");
  EXPECT_EQ(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"].size(), 0u);
  // A host credential is not an admin token.
  Host h = enroll(enroll_token("web"));
  EXPECT_EQ(req("GET", "/v1/fleet", "", h.credential).status, 401);
  auto audit = json::parse(req("GET", "/v1/audit", "", admin_).body);
  EXPECT_EQ(audit["entries"][0]["action"], "token.enrollment.create");
}

TEST_F(ServerTest, PublishVerifiesSignaturesAndIsContentAddressed) {
  std::string nrp = bundle("nr_fix", 1);
  auto r = req("POST", "/v1/bundles", nrp, admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["sequence"], 1);
  EXPECT_EQ(j["kernel"]["build_id"], kBuild);
  EXPECT_EQ(req("POST", "/v1/bundles", nrp, admin_).status, 200);  // same bytes: same id

  SecretKey stranger = SecretKey::generate("stranger");
  auto untrusted = req("POST", "/v1/bundles", bundle("nr_fix", 2, kBuild, &stranger), admin_);
  EXPECT_EQ(untrusted.status, 422);
  EXPECT_EQ(error_code(untrusted), "refused");
  EXPECT_NE(untrusted.body.find(stranger.id()), std::string::npos) << untrusted.body;
  std::string tampered = bundle("nr_fix", 3);
  auto at = tampered.find("fake module bytes");
  ASSERT_NE(at, std::string::npos);
  tampered[at] ^= 0x20;  // the module no longer matches the signed manifest
  EXPECT_EQ(req("POST", "/v1/bundles", tampered, admin_).status, 422);
  EXPECT_EQ(req("POST", "/v1/bundles", "not a tar at all", admin_).status, 422);
  auto big = req("POST", "/v1/bundles", std::string(2 << 20, 'x'), admin_);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(error_code(big), "too_large");
  EXPECT_EQ(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"].size(), 1u);
}

TEST_F(ServerTest, CheckinOfferDownloadAndSafetyRules) {
  std::string tok = enroll_token("web");
  Host h = enroll(tok, "web-1");
  Host other_kernel = enroll(tok, "web-2", "ffffffffffffffffffffffffffffffffffffffff");
  auto none = req("POST", "/v1/checkin", checkin_body(), h.credential);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(json::parse(none.body)["offer"].is_null());

  std::string nrp = bundle("nr_fix", 2);
  std::string sha = publish(nrp);
  rollout(sha, json::array({{{"percent", 100}, {"soak_seconds", 0}, {"failure_budget", 0}}}));
  auto offer = req("POST", "/v1/checkin", checkin_body(), h.credential);
  ASSERT_EQ(offer.status, 200);
  auto o = json::parse(offer.body)["offer"];
  ASSERT_FALSE(o.is_null()) << offer.body;
  EXPECT_EQ(o["sha256"], sha);
  EXPECT_EQ(o["sequence"], 2);
  EXPECT_EQ(o["size"], nrp.size());

  // Never for another kernel, never not newer than what runs.
  auto wrong = req("POST", "/v1/checkin", checkin_body("ffffffffffffffffffffffffffffffffffffffff"), other_kernel.credential);
  EXPECT_TRUE(json::parse(wrong.body)["offer"].is_null()) << wrong.body;
  auto same = req("POST", "/v1/checkin", checkin_body(kBuild, std::make_pair(2, sha)), h.credential);
  EXPECT_TRUE(json::parse(same.body)["offer"].is_null());
  auto newer = req("POST", "/v1/checkin", checkin_body(kBuild, std::make_pair(5, std::string(64, 'c'))), h.credential);
  EXPECT_TRUE(json::parse(newer.body)["offer"].is_null());

  // Download: whole, ETag, 304, ranges, 416; host credential or admin token.
  auto d = req("GET", o["url"], "", h.credential);
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.body, nrp);
  EXPECT_EQ(d.headers["etag"], "\"" + sha + "\"");
  EXPECT_EQ(req("GET", o["url"], "", h.credential, {"If-None-Match: \"" + sha + "\""}).status, 304);
  auto part = req("GET", o["url"], "", h.credential, {"Range: bytes=10-19"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, nrp.substr(10, 10));
  EXPECT_EQ(part.headers["content-range"], "bytes 10-19/" + std::to_string(nrp.size()));
  auto tail = req("GET", o["url"], "", h.credential, {"Range: bytes=-5"});
  EXPECT_EQ(tail.body, nrp.substr(nrp.size() - 5));
  EXPECT_EQ(req("GET", o["url"], "", h.credential, {"Range: bytes=999999-"}).status, 416);
  auto head = req("HEAD", o["url"], "", h.credential);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(nrp.size()));
  EXPECT_EQ(req("GET", o["url"], "", admin_).status, 200);
  EXPECT_EQ(req("GET", o["url"]).status, 401);
  EXPECT_EQ(req("GET", "/v1/bundles/" + std::string(64, 'e'), "", h.credential).status, 404);
}

TEST_F(ServerTest, BadInputIsRefusedWithJsonErrorsAndNothingStored) {
  Host h = enroll(enroll_token("web"));
  auto hist_before = json::parse(req("GET", "/v1/hosts/" + h.id, "", admin_).body)["history"].size();
  // Path characters in an artifact id.
  for (std::string path : {"/v1/bundles/..%2f..%2fetc%2fpasswd", "/v1/bundles/../../etc/passwd",
                           "/v1/bundles/abc", "/v1/bundles/%00"}) {
    auto r = req("GET", path, "", h.credential);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    EXPECT_EQ(error_code(r), "invalid_input") << path;
  }
  // Malformed JSON, wrong types, SQL-looking strings where names are expected.
  auto r1 = req("POST", "/v1/checkin", "{\"kernel\":", h.credential);
  EXPECT_EQ(r1.status, 400);
  EXPECT_NE(r1.body.find("not valid JSON"), std::string::npos);
  auto r2 = req("POST", "/v1/checkin", R"({"kernel":{"release":"x","build_id":"'; DROP TABLE hosts;--","arch":"x86_64"},"state":"idle"})", h.credential);
  EXPECT_EQ(r2.status, 400);
  EXPECT_NE(r2.body.find("kernel.build_id"), std::string::npos);
  auto r3 = req("POST", "/v1/checkin?wait=99999", checkin_body(), h.credential);
  EXPECT_EQ(r3.status, 400);
  auto r4 = req("POST", "/v1/rollouts", R"({"bundle_sha256":")" + std::string(64, 'a') + R"(","groups":["web'; --"],"stages":[{"percent":5}]})", admin_);
  EXPECT_EQ(r4.status, 400) << r4.body;
  auto r5 = req("GET", "/v1/hosts?group=x%27%20OR%201%3D1", "", admin_);
  EXPECT_EQ(r5.status, 400);
  auto r6 = req("GET", "/v1/hosts/h_'or'1'='1", "", admin_);
  EXPECT_EQ(r6.status, 400);
  // SQL-looking text where free text is allowed is stored as text.
  auto e = req("POST", "/v1/enroll", json{{"token", enroll_token("db")}, {"hostname", "x'); DELETE FROM hosts; --"},
                                          {"kernel", json::parse(kernel_json())}}.dump());
  EXPECT_EQ(e.status, 201);
  auto hosts = json::parse(req("GET", "/v1/hosts", "", admin_).body);
  EXPECT_EQ(hosts["total"], 2);
  // A host reporting for another host.
  auto report = json{{"host_id", "h_000000000000000000000000"}, {"state", "failed"}, {"kernel", json::parse(kernel_json())},
                     {"bundle_sha256", std::string(64, 'a')}, {"errors", {"boom"}}};
  auto r7 = req("POST", "/v1/report", report.dump(), h.credential);
  EXPECT_EQ(r7.status, 403);
  EXPECT_EQ(error_code(r7), "forbidden");
  auto after = json::parse(req("GET", "/v1/hosts/" + h.id, "", admin_).body);
  EXPECT_EQ(after["history"].size(), hist_before);
  EXPECT_EQ(after["state"], "idle");
  // Bad credential, oversized JSON, unknown route, wrong method.
  EXPECT_EQ(req("POST", "/v1/checkin", checkin_body(), "nrh_bogus").status, 401);
  auto big = req("POST", "/v1/checkin", std::string(100 * 1024, ' '), h.credential);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(error_code(big), "too_large");
  EXPECT_EQ(req("GET", "/v1/nope", "", admin_).status, 404);
  EXPECT_EQ(req("GET", "/v1/checkin", "", h.credential).status, 405);
}

TEST_F(ServerTest, LongPollIsAnsweredWhenARolloutStarts) {
  Host h = enroll(enroll_token("web"));
  std::string sha = publish(bundle("nr_fix", 1));
  Reply parked;
  auto started = std::chrono::steady_clock::now();
  std::thread agent([&] {
    Client c(base_);
    parked = c.request("POST", "/v1/checkin?wait=20", checkin_body(), h.credential);
  });
  for (int i = 0; i < 100 && api_->waiting() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(api_->waiting(), 1u);
  rollout(sha, json::array({{{"percent", 100}, {"soak_seconds", 0}, {"failure_budget", 0}}}));
  agent.join();
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_LT(waited, std::chrono::seconds(3));
  ASSERT_EQ(parked.status, 200) << parked.error;
  EXPECT_EQ(json::parse(parked.body)["offer"]["sha256"], sha);

  // With nothing to offer, the poll ends at its deadline (clock advanced) with "nothing".
  Reply empty;
  std::thread agent2([&] {
    Client c(base_);
    empty = c.request("POST", "/v1/checkin?wait=5", checkin_body(kBuild, std::make_pair(1, sha)), h.credential);
  });
  for (int i = 0; i < 100 && api_->waiting() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  now_ += 6;
  agent2.join();
  EXPECT_EQ(empty.status, 200);
  EXPECT_TRUE(json::parse(empty.body)["offer"].is_null());
}

// A host keeps one parked poll: a newer one answers the older "nothing" at once. A parked
// poll whose client hangs up is dropped without waiting for its deadline (issue 17).
TEST_F(ServerTest, ANewerLongPollReplacesTheOlderAndAHangUpDropsIt) {
  Host h = enroll(enroll_token("web"));
  auto wait_for_waiting = [&](std::size_t n) {
    for (int i = 0; i < 1500 && api_->waiting() != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return api_->waiting();
  };
  Reply older;
  std::thread agent([&] {
    Client c(base_);
    older = c.request("POST", "/v1/checkin?wait=120", checkin_body(), h.credential);
  });
  ASSERT_EQ(wait_for_waiting(1), 1u);

  // The newer poll on a raw socket, so that it can hang up without a word.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string body = checkin_body();
  std::string request = "POST /v1/checkin?wait=120 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                        h.credential + "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  agent.join();  // answered because the newer poll parked, long before its 120 s
  ASSERT_EQ(older.status, 200) << older.error;
  EXPECT_TRUE(json::parse(older.body)["offer"].is_null());
  EXPECT_EQ(wait_for_waiting(1), 1u);

  ::close(fd);
  EXPECT_EQ(wait_for_waiting(0), 0u) << "the poll of a client that hung up is still parked";
}

TEST_F(ServerTest, FailuresPastTheBudgetHaltTheRolloutAndBlockTheBundle) {
  std::string tok = enroll_token("web");
  std::vector<Host> hosts;
  for (int i = 0; i < 40; ++i) hosts.push_back(enroll(tok, "web-" + std::to_string(i)));
  std::string sha = publish(bundle("nr_fix", 1));
  std::string id = rollout(sha, json::array({{{"percent", 50}, {"soak_seconds", 3600}, {"failure_budget", 1}},
                                             {{"percent", 100}, {"soak_seconds", 0}, {"failure_budget", 5}}}));
  std::vector<Host> offered, not_offered;
  for (auto& h : hosts) {
    auto resp = req("POST", "/v1/checkin", checkin_body(), h.credential);
    auto o = json::parse(resp.body)["offer"];
    bool expect = placement_bucket(id, h.id) < 50;
    ASSERT_EQ(!o.is_null(), expect) << h.id << ": " << resp.status << " " << resp.body;
    (expect ? offered : not_offered).push_back(h);
  }
  ASSERT_GE(offered.size(), 3u);
  ASSERT_GE(not_offered.size(), 1u);
  auto fail_report = [&](const Host& h) {
    auto body = json{{"host_id", h.id}, {"state", "failed"}, {"kernel", json::parse(kernel_json())}, {"bundle_sha256", sha},
                     {"errors", {"transition stuck"}}, {"blocked_tasks", {{{"pid", 7}, {"comm", "kworker"}, {"stack", "schedule"}}}}};
    return req("POST", "/v1/report", body.dump(), h.credential);
  };
  EXPECT_EQ(fail_report(offered[0]).status, 200);
  for (int i = 0; i < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"], "running");
  EXPECT_EQ(fail_report(offered[1]).status, 200);
  json status;
  for (int i = 0; i < 50; ++i) {
    status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
    if (status["state"] == "halted") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["state"], "halted") << status.dump();
  EXPECT_EQ(status["counts"]["failed"], 2);
  EXPECT_NE(status["halt_reason"].get<std::string>().find("exceed the failure budget"), std::string::npos);
  auto hj = json::parse(req("GET", "/v1/hosts/" + offered[0].id, "", admin_).body);
  EXPECT_EQ(hj["state"], "failed");
  EXPECT_EQ(hj["last_error"], "transition stuck");
  EXPECT_EQ(hj["history"][0]["detail"]["blocked_tasks"][0]["comm"], "kworker");
  auto b = json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"][0];
  EXPECT_TRUE(b["blocked"].get<bool>());
  // Offered to no one else, not even after promotion attempts.
  for (auto& h : offered)
    EXPECT_TRUE(json::parse(req("POST", "/v1/checkin", checkin_body(), h.credential).body)["offer"].is_null());
  EXPECT_EQ(req("POST", "/v1/rollouts/" + id + "/promote", "", admin_).status, 409);
  auto audit = json::parse(req("GET", "/v1/audit", "", admin_).body);
  EXPECT_EQ(audit["entries"][0]["action"], "rollout.halted");

  // Resumed, it does not halt again on the failures already counted; the hosts that failed
  // are still never offered the bundle, the others are; one new failure is within the budget.
  auto resumed = req("POST", "/v1/rollouts/" + id + "/resume", "", admin_);
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(json::parse(resumed.body)["failure_baseline"], 2);
  now_ += 1;
  for (int i = 0; i < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"], "running");
  EXPECT_TRUE(json::parse(req("POST", "/v1/checkin", checkin_body(), offered[0].credential).body)["offer"].is_null());
  EXPECT_FALSE(json::parse(req("POST", "/v1/checkin", checkin_body(), offered[2].credential).body)["offer"].is_null());
  EXPECT_EQ(fail_report(offered[2]).status, 200);
  now_ += 1;
  for (int i = 0; i < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"], "running");
}

TEST_F(ServerTest, StagesAdvanceWithTimeAndPinsHoldGroups) {
  std::string tok = enroll_token("web");
  std::vector<Host> hosts;
  for (int i = 0; i < 30; ++i) hosts.push_back(enroll(tok, "web-" + std::to_string(i)));
  std::string sha1 = publish(bundle("nr_fix", 1));
  std::string id = rollout(sha1, json::array({{{"percent", 10}, {"soak_seconds", 60}, {"failure_budget", 0}},
                                              {{"percent", 100}, {"soak_seconds", 60}, {"failure_budget", 0}}}));
  auto count_offers = [&] {
    int n = 0;
    for (auto& h : hosts) n += !json::parse(req("POST", "/v1/checkin", checkin_body(), h.credential).body)["offer"].is_null();
    return n;
  };
  int first = count_offers();
  EXPECT_LT(first, 30);
  now_ += 61;
  json st;
  for (int i = 0; i < 50; ++i) {
    st = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
    if (st["current_stage"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(st["current_stage"], 1) << st.dump();
  EXPECT_EQ(count_offers(), 30);
  // Pin the group until later: nothing is offered; delete the pin: offers again.
  ASSERT_EQ(req("POST", "/v1/pins", json{{"group", "web"}, {"until", now_ + 1000}}.dump(), admin_).status, 201);
  EXPECT_EQ(count_offers(), 0);
  ASSERT_EQ(req("DELETE", "/v1/pins/web", "", admin_).status, 200);
  EXPECT_EQ(count_offers(), 30);
  auto fleet = json::parse(req("GET", "/v1/fleet", "", admin_).body);
  EXPECT_EQ(fleet["hosts"], 30);
  EXPECT_EQ(fleet["exposed"][0]["hosts_behind"], 30);
  EXPECT_EQ(fleet["rollouts"]["running"], 1);
}


// ---- fixes: signed fix records and the exposure per fix (api_fixes.cc) ----------------------

struct TestKernel {
  std::string release, debian, build;
  json identity() const {
    // As a real Debian /proc/version: the compiler's Debian version comes first.
    return {{"release", release},
            {"version", "Linux version " + release +
                            " (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU "
                            "Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian " + debian + " (2026-11-16)"},
            {"build_id", build}, {"arch", "x86_64"}};
  }
};
const TestKernel kK55{"6.1.0-55-amd64", "6.1.192-1", std::string(40, '5')};
const TestKernel kK56{"6.1.0-56-amd64", "6.1.192-2", std::string(40, '6')};
const TestKernel kK57{"6.1.0-57-amd64", "6.1.192-3", std::string(40, '7')};  // already fixed
const TestKernel kK48{"6.1.0-48-amd64", "6.1.172-1", std::string(40, '4')};  // not buildable
const TestKernel kK40{"6.1.0-40-amd64", "6.1.150-1", std::string(40, '0')};  // not in the record

class FixTest : public ServerTest {
 protected:
  std::string fix_bundle(const TestKernel& k, const std::string& name, std::uint64_t seq,
                         std::vector<Fix> fixes = {{"CVE-2026-99362", "nfsd: use after free"}}) {
    Manifest m;
    m.name = name;
    m.sequence = seq;
    m.kernel = {k.release, k.identity()["version"], k.build, "x86_64"};
    m.module.vermagic = k.release + " SMP preempt mod_unload modversions";
    m.fixes = std::move(fixes);
    m.builder_version = "test";
    m.created = "2026-12-02T00:00:00Z";
    std::string module = "\x7f" "ELF module " + name + k.release + std::to_string(seq);
    auto b = build_bundle(m, as_bytes(module), key_);
    EXPECT_TRUE(b.ok()) << b.error().message();
    return std::string(b->begin(), b->end());
  }

  FixRecordKernel built(const TestKernel& k, const std::string& nrp, const std::string& name, std::uint64_t seq) {
    return {k.release, k.debian, KernelOutcome::built,
            FixRecordBundle{k.release + ".nrp", sha256_hex(as_bytes(nrp)), k.build, name, seq}, ""};
  }

  FixRecord record(std::vector<FixRecordKernel> kernels, std::string description = "nfsd: use after free") {
    FixRecord r;
    r.fixes = {{"CVE-2026-99362", std::move(description)}};
    r.patch_name = "nfsd-uaf.patch";
    r.patch_sha256 = std::string(64, 'c');
    r.kernels = std::move(kernels);
    r.builder_version = "test";
    r.created = "2026-12-02T00:00:00Z";
    return r;
  }

  static std::string body_for(const std::string& record_bytes, const std::string& signature) {
    return json{{"record", base64_encode(as_bytes(record_bytes))}, {"signature", signature}}.dump();
  }
  Reply post_record(const FixRecord& r, const SecretKey* key = nullptr) {
    auto s = sign_fix_record(r, key ? *key : key_);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return req("POST", "/v1/fixes", body_for(s->record, s->signature), admin_);
  }
  static std::string message(const Reply& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() || !j.contains("error") ? r.body : j["error"]["message"].get<std::string>();
  }

  Host enroll_on(const std::string& token, const std::string& name, const TestKernel& k) {
    auto r = req("POST", "/v1/enroll", json{{"token", token}, {"hostname", name}, {"kernel", k.identity()}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json::parse(r.body);
    return {j["host_id"], j["credential"]};
  }
  void checkin_on(const Host& h, const TestKernel& k, const std::string& applied_sha = "", std::uint64_t seq = 0,
                  const std::string& name = "nr_nfsd") {
    json applied = nullptr;
    if (!applied_sha.empty()) applied = {{"name", name}, {"sequence", seq}, {"bundle_sha256", applied_sha}};
    auto r = req("POST", "/v1/checkin",
                 json{{"kernel", k.identity()}, {"applied", applied}, {"state", applied.is_null() ? "idle" : "applied"},
                      {"agent_version", "test"}}.dump(),
                 h.credential);
    EXPECT_EQ(r.status, 200) << r.body;
  }
  json exposure(const std::string& id = "CVE-2026-99362") {
    auto r = req("GET", "/v1/fixes/" + id, "", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["hosts"];
  }
  std::size_t stored_fixes() { return json::parse(req("GET", "/v1/fixes", "", admin_).body)["fixes"].size(); }

  // The fix most tests start from: nr_nfsd sequence 10 built for -55 and -56 and already fixed
  // on -57, both bundles and the signed record published. Call it through
  // ASSERT_NO_FATAL_FAILURE so a refused record stops the test.
  struct NfsdFix {
    std::string b55, b56, sha55, sha56;
  };
  void publish_nfsd_fix(NfsdFix& f) {
    f.b55 = fix_bundle(kK55, "nr_nfsd", 10);
    f.b56 = fix_bundle(kK56, "nr_nfsd", 10);
    f.sha55 = publish(f.b55);
    f.sha56 = publish(f.b56);
    ASSERT_EQ(post_record(record({built(kK55, f.b55, "nr_nfsd", 10), built(kK56, f.b56, "nr_nfsd", 10),
                                  {kK57.release, kK57.debian, KernelOutcome::already_fixed, std::nullopt, ""}}))
                  .status,
              201);
  }
};

TEST_F(FixTest, RecordsAreVerifiedAndCheckedAgainstTheUploadedBundles) {
  std::string b55 = fix_bundle(kK55, "nr_nfsd", 10), b56 = fix_bundle(kK56, "nr_nfsd", 10);
  publish(b55);
  std::vector<FixRecordKernel> kernels = {
      built(kK55, b55, "nr_nfsd", 10), built(kK56, b56, "nr_nfsd", 10),
      {kK57.release, kK57.debian, KernelOutcome::already_fixed, std::nullopt, "its source already contains the fix"},
      {kK48.release, kK48.debian, KernelOutcome::unavailable, std::nullopt, "the archive serves only its image"}};

  // A bundle the record names was not uploaded.
  auto missing = post_record(record(kernels));
  EXPECT_EQ(missing.status, 422) << missing.body;
  EXPECT_EQ(error_code(missing), "refused");
  EXPECT_NE(message(missing).find("kernel 6.1.0-56-amd64: bundle " + sha256_hex(as_bytes(b56)) + " (6.1.0-56-amd64.nrp) was not uploaded"),
            std::string::npos) << message(missing);
  EXPECT_EQ(stored_fixes(), 0u);
  EXPECT_EQ(req("GET", "/v1/fixes/CVE-2026-99362", "", admin_).status, 404);
  publish(b56);

  // Not signed by a trusted key; modified after signing; not a signature; not base64.
  auto other = SecretKey::generate();
  auto untrusted = post_record(record(kernels), &other);
  EXPECT_EQ(untrusted.status, 422);
  EXPECT_NE(message(untrusted).find("not trusted"), std::string::npos) << message(untrusted);
  auto s = sign_fix_record(record(kernels), key_);
  ASSERT_TRUE(s.ok());
  std::string tampered = s->record;
  tampered.replace(tampered.find("already_fixed"), 13, "does_not_appl");
  auto modified = req("POST", "/v1/fixes", body_for(tampered, s->signature), admin_);
  EXPECT_EQ(modified.status, 422);
  EXPECT_NE(message(modified).find("modified after signing"), std::string::npos) << message(modified);
  EXPECT_EQ(req("POST", "/v1/fixes", body_for(s->record, "noreboot-ed25519-signature-v1 zz"), admin_).status, 422);
  auto not_b64 = req("POST", "/v1/fixes", json{{"record", "%%%"}, {"signature", s->signature}}.dump(), admin_);
  EXPECT_EQ(not_b64.status, 400);
  EXPECT_EQ(error_code(not_b64), "invalid_input");
  EXPECT_EQ(req("POST", "/v1/fixes", json{{"record", base64_encode(as_bytes(s->record))}}.dump(), admin_).status, 400);
  EXPECT_EQ(req("POST", "/v1/fixes", "[]", admin_).status, 400);

  // Two bundles for one kernel (signed as is: sign_fix_record itself refuses to write it).
  {
    auto j = json::parse(s->record);
    auto dup = j["kernels"][0];
    dup["bundle"]["sha256"] = sha256_hex(as_bytes(b56));
    j["kernels"].push_back(dup);
    std::string text = j.dump(2) + "\n";
    auto r = req("POST", "/v1/fixes", body_for(text, format_signature(sign_message(key_, as_bytes(text)))), admin_);
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(message(r).find("'6.1.0-55-amd64' appears twice"), std::string::npos) << message(r);
  }
  // A bundle for another kernel than the record says.
  {
    auto wrong = kernels;
    wrong[1].bundle->sha256 = sha256_hex(as_bytes(b55));
    auto r = post_record(record(wrong));
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(message(r).find("is for kernel 6.1.0-55-amd64"), std::string::npos) << message(r);
  }
  // A bundle that does not carry the fix.
  {
    std::string plain = fix_bundle(kK56, "nr_other", 11, {});
    publish(plain);
    auto wrong = kernels;
    wrong[1] = built(kK56, plain, "nr_other", 11);
    auto r = post_record(record(wrong));
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(message(r).find("does not carry fix CVE-2026-99362"), std::string::npos) << message(r);
  }
  EXPECT_EQ(stored_fixes(), 0u);

  // Read tokens look, admin tokens publish.
  auto ro = json::parse(req("POST", "/v1/tokens/admin", json{{"name", "viewer"}, {"role", "read"}}.dump(), admin_).body);
  EXPECT_EQ(req("POST", "/v1/fixes", body_for(s->record, s->signature), ro["token"]).status, 403);

  auto ok = req("POST", "/v1/fixes", body_for(s->record, s->signature), admin_);
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto okj = json::parse(ok.body);
  EXPECT_EQ(okj["sha256"], sha256_hex(as_bytes(s->record)));
  EXPECT_EQ(okj["signer"], key_.id());
  EXPECT_EQ(okj["fixes"][0]["id"], "CVE-2026-99362");
  EXPECT_EQ(okj["fixes"][0]["kernels"].size(), 4u);
  EXPECT_EQ(req("POST", "/v1/fixes", body_for(s->record, s->signature), admin_).status, 200);  // same again
  EXPECT_EQ(req("GET", "/v1/fixes", "", ro["token"]).status, 200);

  // A record that disagrees with the stored one: 409, nothing stored.
  auto disagree = kernels;
  disagree[2].outcome = KernelOutcome::does_not_apply;
  auto conflict = post_record(record(disagree));
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(error_code(conflict), "conflict");
  EXPECT_NE(message(conflict).find("kernel 6.1.0-57-amd64"), std::string::npos) << message(conflict);
  auto other_text = post_record(record(kernels, "something else"));
  EXPECT_EQ(other_text.status, 409);
  auto one = json::parse(req("GET", "/v1/fixes/CVE-2026-99362", "", admin_).body);
  EXPECT_EQ(one["description"], "nfsd: use after free");
  EXPECT_EQ(one["kernels"][3]["release"], kK57.release);  // ordered by release: -48, -55, -56, -57
  EXPECT_EQ(one["kernels"][3]["outcome"], "already_fixed");
  EXPECT_EQ(req("GET", "/v1/fixes/CVE%202", "", admin_).status, 400);
  EXPECT_EQ(req("GET", "/v1/fixes/CVE-0", "", admin_).status, 404);

  auto audit = json::parse(req("GET", "/v1/audit", "", admin_).body);
  bool published = false;
  for (const auto& e : audit["entries"]) published |= e["action"] == "fix.publish";
  EXPECT_TRUE(published);
  // Bundles show the fixes they carry.
  auto bundles = json::parse(req("GET", "/v1/bundles", "", admin_).body);  // kept alive for the loop
  for (const auto& b : bundles["bundles"])
    EXPECT_EQ(b["fixes"], b["patch_name"] == "nr_other" ? json::array() : json::array({"CVE-2026-99362"})) << b.dump();
}

TEST_F(FixTest, ExposureCountsHostsPerKernelAndCumulativeBundlesStayPatched) {
  std::string b55 = fix_bundle(kK55, "nr_nfsd", 10), b56 = fix_bundle(kK56, "nr_nfsd", 10);
  std::string sha55 = publish(b55), sha56 = publish(b56);
  ASSERT_EQ(post_record(record({built(kK55, b55, "nr_nfsd", 10), built(kK56, b56, "nr_nfsd", 10),
                                {kK57.release, kK57.debian, KernelOutcome::already_fixed, std::nullopt, ""},
                                {kK48.release, kK48.debian, KernelOutcome::unavailable, std::nullopt, "image only"}}))
                .status,
            201);
  std::string tok = enroll_token("web");
  Host a1 = enroll_on(tok, "a1", kK55), a2 = enroll_on(tok, "a2", kK55);
  Host b1 = enroll_on(tok, "b1", kK56), b2 = enroll_on(tok, "b2", kK56);
  Host c1 = enroll_on(tok, "c1", kK57);
  Host d1 = enroll_on(tok, "d1", kK48);
  Host e1 = enroll_on(tok, "e1", kK40);

  auto e = exposure();
  EXPECT_EQ(e["total"], 7);
  EXPECT_EQ(e["patched"]["count"], 0);
  EXPECT_EQ(e["exposed"]["count"], 4);
  EXPECT_EQ(e["exposed"]["kernels"].size(), 2u);
  EXPECT_EQ(e["exposed"]["kernels"][0]["release"], kK55.release);
  EXPECT_EQ(e["exposed"]["kernels"][0]["count"], 2);
  EXPECT_EQ(e["already_fixed"]["count"], 1);
  EXPECT_EQ(e["already_fixed"]["kernels"][0]["release"], kK57.release);
  EXPECT_EQ(e["not_built"]["count"], 1);
  EXPECT_EQ(e["not_built"]["kernels"][0]["outcome"], "unavailable");
  EXPECT_EQ(e["not_covered"]["count"], 1);
  EXPECT_EQ(e["not_covered"]["kernels"][0]["release"], kK40.release);

  // a1 applies its kernel's bundle.
  checkin_on(a1, kK55, sha55, 10);
  e = exposure();
  EXPECT_EQ(e["patched"]["count"], 1);
  EXPECT_EQ(e["exposed"]["count"], 3);

  // A later cumulative bundle for 6.1.0-56 carries this fix and a new one: b1 on it is patched
  // for both; b2 on the first bundle is patched for the first fix only.
  std::string b56v2 = fix_bundle(kK56, "nr_nfsd_2", 20, {{"CVE-2026-99362", "nfsd: use after free"}, {"CVE-2026-99999", "ext4"}});
  std::string sha56v2 = publish(b56v2);
  checkin_on(b1, kK56, sha56v2, 20, "nr_nfsd_2");
  checkin_on(b2, kK56, sha56, 10);
  e = exposure();
  EXPECT_EQ(e["patched"]["count"], 3);
  EXPECT_EQ(e["exposed"]["count"], 1);
  EXPECT_EQ(e["exposed"]["kernels"][0]["release"], kK55.release);
  EXPECT_EQ(e["already_fixed"]["count"], 1);

  // The second fix has its own record (only 6.1.0-56 built; 6.1.0-55 does not apply).
  FixRecord second = record({built(kK56, b56v2, "nr_nfsd_2", 20),
                             {kK55.release, kK55.debian, KernelOutcome::does_not_apply, std::nullopt, "hunk 1 FAILED"}});
  second.fixes = {{"CVE-2026-99999", "ext4"}};
  ASSERT_EQ(post_record(second).status, 201);
  auto e2 = exposure("CVE-2026-99999");
  EXPECT_EQ(e2["patched"]["count"], 1);   // b1
  EXPECT_EQ(e2["exposed"]["count"], 1);   // b2: on 6.1.0-56 without it
  EXPECT_EQ(e2["not_built"]["count"], 2); // a1, a2
  EXPECT_EQ(e2["not_covered"]["count"], 3);

  auto all = json::parse(req("GET", "/v1/fixes", "", admin_).body)["fixes"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["id"], "CVE-2026-99362");

  auto m = req("GET", "/metrics").body;
  EXPECT_NE(m.find("noreboot_hosts_exposed{fix=\"CVE-2026-99362\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("noreboot_hosts_exposed{fix=\"CVE-2026-99999\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("noreboot_fix_hosts{fix=\"CVE-2026-99362\",group=\"patched\"} 3\n"), std::string::npos) << m;
  (void)a2; (void)c1; (void)d1; (void)e1;
}

// One rollout for a fix: each host is offered its own kernel's bundle, stages count hosts
// across kernels, failures on two kernels add up to one halt that blocks every bundle of the
// fix, and a resume unblocks them all. Bundle rollouts are untouched (the tests above).
TEST_F(FixTest, OneRolloutPerFixAcrossKernels) {
  NfsdFix fix;
  ASSERT_NO_FATAL_FAILURE(publish_nfsd_fix(fix));
  const std::string &sha55 = fix.sha55, &sha56 = fix.sha56;
  std::string tok = enroll_token("web");
  Host a1 = enroll_on(tok, "a1", kK55), a2 = enroll_on(tok, "a2", kK55);
  Host b1 = enroll_on(tok, "b1", kK56), b2 = enroll_on(tok, "b2", kK56);
  Host c1 = enroll_on(tok, "c1", kK57);

  EXPECT_EQ(req("POST", "/v1/rollouts", json{{"fix", "CVE-0"}, {"stages", {{{"percent", 100}}}}}.dump(), admin_).status, 404);
  EXPECT_EQ(req("POST", "/v1/rollouts",
                json{{"fix", "CVE-2026-99362"}, {"bundle_sha256", sha55}, {"stages", {{{"percent", 100}}}}}.dump(), admin_)
                .status,
            400);
  auto created = req("POST", "/v1/rollouts",
                     json{{"fix", "CVE-2026-99362"},
                          {"stages", {{{"percent", 100}, {"soak_seconds", 3600}, {"failure_budget", 1}}}}}.dump(),
                     admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  auto r = json::parse(created.body);
  std::string id = r["id"];
  EXPECT_EQ(r["fix"], "CVE-2026-99362");
  EXPECT_EQ(r["kernels"].size(), 2u);
  EXPECT_EQ(r["counts"]["targeted"], 4);  // the host on the already fixed kernel is not targeted

  auto offer = [&](const Host& h, const TestKernel& k) {
    auto reply = req("POST", "/v1/checkin",
                     json{{"kernel", k.identity()}, {"applied", nullptr}, {"state", "idle"}, {"agent_version", "t"}}.dump(),
                     h.credential);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return json::parse(reply.body)["offer"];
  };
  EXPECT_EQ(offer(a1, kK55)["sha256"], sha55);
  EXPECT_EQ(offer(b1, kK56)["sha256"], sha56);
  EXPECT_EQ(offer(a1, kK55)["rollout_id"], id);
  EXPECT_TRUE(offer(c1, kK57).is_null());

  auto fail_report = [&](const Host& h, const TestKernel& k, const std::string& sha) {
    auto body = json{{"host_id", h.id}, {"state", "failed"}, {"kernel", k.identity()}, {"bundle_sha256", sha},
                     {"errors", {"transition stuck"}}};
    return req("POST", "/v1/report", body.dump(), h.credential).status;
  };
  EXPECT_EQ(fail_report(a1, kK55, sha55), 200);  // one failure: within the budget
  for (int i = 0; i < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"], "running");
  EXPECT_EQ(fail_report(b1, kK56, sha56), 200);  // a second, on another kernel: past the budget
  json status;
  for (int i = 0; i < 50; ++i) {
    status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
    if (status["state"] == "halted") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["state"], "halted") << status.dump();
  EXPECT_EQ(status["counts"]["failed"], 2);
  auto bundles = json::parse(req("GET", "/v1/bundles", "", admin_).body);  // kept alive for the loop
  for (const auto& b : bundles["bundles"])
    EXPECT_TRUE(b["blocked"].get<bool>()) << b.dump();
  EXPECT_TRUE(offer(a2, kK55).is_null());
  EXPECT_TRUE(offer(b2, kK56).is_null());

  auto resumed = req("POST", "/v1/rollouts/" + id + "/resume", "", admin_);
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(json::parse(resumed.body)["failure_baseline"], 2);
  auto resumed_bundles = json::parse(req("GET", "/v1/bundles", "", admin_).body);  // kept alive for the loop
  for (const auto& b : resumed_bundles["bundles"])
    EXPECT_FALSE(b["blocked"].get<bool>()) << b.dump();
  EXPECT_EQ(offer(a2, kK55)["sha256"], sha55);
  EXPECT_EQ(offer(b2, kK56)["sha256"], sha56);
  EXPECT_TRUE(offer(a1, kK55).is_null());  // failed with it before: never again
  auto manual = req("POST", "/v1/rollouts/" + id + "/halt", json{{"reason", "stop"}}.dump(), admin_);
  ASSERT_EQ(manual.status, 200);
  auto halted_bundles = json::parse(req("GET", "/v1/bundles", "", admin_).body);  // kept alive for the loop
  for (const auto& b : halted_bundles["bundles"])
    EXPECT_TRUE(b["blocked"].get<bool>());
  auto list = json::parse(req("GET", "/v1/rollouts", "", admin_).body)["rollouts"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["fix"], "CVE-2026-99362");
}


// ---- the dashboard: server-side sessions, fix pages, actions with per-form tokens --------------

// A browser: the dashboard session cookie it got from logging in ("" when refused).
std::string dashboard_login(Client& c, const std::string& token, long* status = nullptr) {
  auto r = c.request("POST", "/login", "token=" + token, "", {"Content-Type: application/x-www-form-urlencoded"});
  if (status) *status = r.status;
  std::string set = r.headers.count("set-cookie") ? r.headers["set-cookie"] : "";
  if (r.status != 303 || set.rfind("nr_session=", 0) != 0) return "";
  return set.substr(11, set.find(';') - 11);
}
Reply dashboard_get(Client& c, const std::string& path, const std::string& session) {
  return c.request("GET", path, "", "", {"Cookie: nr_session=" + session});
}
Reply dashboard_post(Client& c, const std::string& path, const std::string& session, const std::string& form) {
  std::vector<std::string> headers = {"Content-Type: application/x-www-form-urlencoded"};
  if (!session.empty()) headers.push_back("Cookie: nr_session=" + session);
  return c.request("POST", path, form, "", headers);
}
// The form token a page carries for the form posting to `action` ("" when it has no such form).
std::string form_token_in(const std::string& page, const std::string& action) {
  auto pos = page.find("action=\"" + action + "\"");
  if (pos == std::string::npos) return "";
  pos = page.find("name=\"csrf\" value=\"", pos);
  return pos == std::string::npos ? "" : page.substr(pos + 19, 64);
}

TEST_F(ServerTest, DashboardSessionsAreServerSideAndNotApiCredentials) {
  auto anon = req("GET", "/");
  EXPECT_EQ(anon.status, 200);
  EXPECT_NE(anon.body.find("action=\"/login\""), std::string::npos);
  long status = 0;
  EXPECT_EQ(dashboard_login(*client_, "nra_not-a-token", &status), "");
  EXPECT_EQ(status, 401);

  auto login = req("POST", "/login", "token=" + admin_);
  ASSERT_EQ(login.status, 303);
  std::string cookie = login.headers["set-cookie"];
  EXPECT_EQ(cookie.rfind("nr_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=28800"), std::string::npos);
  EXPECT_EQ(cookie.find(admin_), std::string::npos) << "the cookie must not carry the token";
  std::string session = cookie.substr(11, cookie.find(';') - 11);
  EXPECT_EQ(session.size(), 64u);

  auto fleet = dashboard_get(*client_, "/", session);
  EXPECT_EQ(fleet.status, 200);
  EXPECT_NE(fleet.body.find("id=\"host-count\""), std::string::npos) << fleet.body.substr(0, 400);
  EXPECT_NE(fleet.headers["content-security-policy"].find("default-src 'none'"), std::string::npos);

  // Neither the session cookie nor the old raw-token cookie is a credential for /v1.
  EXPECT_EQ(req("GET", "/v1/fleet", "", "", {"Cookie: nr_session=" + session}).status, 401);
  EXPECT_EQ(req("GET", "/v1/fleet", "", "", {"Cookie: nr_token=" + admin_}).status, 401);
  auto pin = req("POST", "/v1/pins", json{{"group", "web"}, {"until", 4102444800}}.dump(), "",
                 {"Cookie: nr_token=" + admin_, "Content-Type: text/plain"});
  EXPECT_EQ(pin.status, 401);
  EXPECT_EQ(json::parse(req("GET", "/v1/pins", "", admin_).body)["pins"].size(), 0u);

  // Logout needs the session's own form token, and ends the session.
  std::string logout_token = form_token_in(fleet.body, "/logout");
  ASSERT_EQ(logout_token.size(), 64u);
  EXPECT_EQ(dashboard_post(*client_, "/logout", session, "csrf=" + std::string(64, '0')).status, 403);
  EXPECT_NE(dashboard_get(*client_, "/", session).body.find("id=\"host-count\""), std::string::npos);
  auto out = dashboard_post(*client_, "/logout", session, "csrf=" + logout_token);
  EXPECT_EQ(out.status, 303);
  EXPECT_NE(out.headers["set-cookie"].find("nr_session=; Max-Age=0"), std::string::npos);
  auto after = dashboard_get(*client_, "/", session);
  EXPECT_EQ(after.body.find("id=\"host-count\""), std::string::npos);
  EXPECT_NE(after.body.find("session has ended"), std::string::npos);

  // Revoking the token behind a session logs it out at the next page view.
  auto made = json::parse(req("POST", "/v1/tokens/admin", json{{"name", "ops"}, {"role", "admin"}}.dump(), admin_).body);
  std::string ops = dashboard_login(*client_, made["token"]);
  ASSERT_FALSE(ops.empty());
  EXPECT_NE(dashboard_get(*client_, "/hosts", ops).body.find("<h1>Hosts</h1>"), std::string::npos);
  ASSERT_EQ(req("DELETE", "/v1/tokens/admin/" + made["id"].get<std::string>(), "", admin_).status, 200);
  auto revoked = dashboard_get(*client_, "/hosts", ops);
  EXPECT_EQ(revoked.body.find("<h1>Hosts</h1>"), std::string::npos);
  EXPECT_NE(revoked.body.find("revoked or expired"), std::string::npos);
}

TEST(DashboardSessions, ExpireAfterEightHoursAndEvictTheOldest) {
  DashboardSessions s(3);
  auto a = s.create("ha", 100);
  auto b = s.create("hb", 100);
  EXPECT_TRUE(s.find(a.id, 100 + 8 * 3600 - 1).has_value());
  EXPECT_FALSE(s.find(a.id, 100 + 8 * 3600).has_value());
  s.create("hc", 200);
  s.create("hd", 200);
  s.create("he", 200);  // four live before this one: b is the oldest, evicted
  EXPECT_FALSE(s.find(b.id, 300).has_value());
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(DashboardSessions::form_token_ok(b, "/rollouts/r_0/halt", DashboardSessions::form_token(b, "/rollouts/r_0/halt")));
  EXPECT_FALSE(DashboardSessions::form_token_ok(b, "/rollouts/r_0/resume", DashboardSessions::form_token(b, "/rollouts/r_0/halt")));
  EXPECT_FALSE(DashboardSessions::form_token_ok(a, "/rollouts/r_0/halt", DashboardSessions::form_token(b, "/rollouts/r_0/halt")));
  EXPECT_FALSE(DashboardSessions::form_token_ok(b, "/rollouts/r_0/halt", ""));
  EXPECT_EQ(DashboardSessions::cookie_value("a=1; nr_session=abc; b=2"), "abc");
  EXPECT_EQ(DashboardSessions::cookie_value("xnr_session=abc"), "");
}

// The fix page shows the API's exposure counts and the rollout; its buttons act only for an
// admin session with the form's own token, and then exactly as the API does.
TEST_F(FixTest, DashboardFixPageAndItsButtons) {
  NfsdFix fix;
  ASSERT_NO_FATAL_FAILURE(publish_nfsd_fix(fix));
  const std::string& sha55 = fix.sha55;
  std::string tok = enroll_token("web");
  Host a1 = enroll_on(tok, "a1", kK55), a2 = enroll_on(tok, "a2", kK55);
  enroll_on(tok, "b1", kK56);
  enroll_on(tok, "c1", kK57);
  auto created = req("POST", "/v1/rollouts",
                     json{{"fix", "CVE-2026-99362"}, {"stages", {{{"percent", 100}, {"soak_seconds", 3600}}}}}.dump(), admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = json::parse(created.body)["id"];
  now_ += 60;
  checkin_on(a1, kK55, sha55, 10);  // a1 reports the fix applied
  auto applied = req("POST", "/v1/report",
                     json{{"host_id", a1.id}, {"state", "applied"}, {"kernel", kK55.identity()}, {"bundle_sha256", sha55},
                          {"applied", {{"name", "nr_nfsd"}, {"sequence", 10}, {"bundle_sha256", sha55}}}}.dump(),
                     a1.credential);
  EXPECT_EQ(applied.status, 200) << applied.body;
  json api = exposure();

  std::string admin_session = dashboard_login(*client_, admin_);
  ASSERT_FALSE(admin_session.empty());
  auto list = dashboard_get(*client_, "/fixes", admin_session);
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("<a href=\"/fixes/CVE-2026-99362\">"), std::string::npos);
  auto page = dashboard_get(*client_, "/fixes/CVE-2026-99362", admin_session);
  ASSERT_EQ(page.status, 200) << page.body.substr(0, 300);
  for (const char* g : {"patched", "exposed", "already_fixed", "not_built", "not_covered"})
    EXPECT_NE(page.body.find(std::string("id=\"count-") + g + "\">" + std::to_string(api[g]["count"].get<int>()) + "<"),
              std::string::npos) << g << " " << api.dump();
  EXPECT_EQ(api["exposed"]["count"], 2);
  EXPECT_NE(page.body.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_NE(page.body.find("patched 1</text>"), std::string::npos);
  EXPECT_NE(page.body.find("class=\"rollout\" id=\"" + id + "\""), std::string::npos);
  std::string halt = "/rollouts/" + id + "/halt";
  std::string halt_token = form_token_in(page.body, halt);
  ASSERT_EQ(halt_token.size(), 64u) << "no Halt button for an admin session";
  EXPECT_EQ(dashboard_get(*client_, "/fixes/CVE-0", admin_session).status, 404);
  auto state = [&] { return json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"].get<std::string>(); };

  // Refused, and nothing changes: no form token, a wrong one, another form's, no session.
  auto missing = dashboard_post(*client_, halt, admin_session, "back=fix");
  EXPECT_EQ(missing.status, 403);
  EXPECT_NE(missing.body.find("Nothing was changed"), std::string::npos);
  EXPECT_EQ(dashboard_post(*client_, halt, admin_session, "csrf=" + std::string(64, 'a')).status, 403);
  EXPECT_EQ(dashboard_post(*client_, halt, admin_session, "csrf=" + form_token_in(page.body, "/rollouts/" + id + "/promote")).status,
            403);
  EXPECT_EQ(dashboard_post(*client_, halt, "", "csrf=" + halt_token).status, 403);
  EXPECT_EQ(req("POST", halt, "csrf=" + halt_token, admin_).status, 403);  // a bearer token is not a session
  EXPECT_EQ(state(), "running");

  // A read-role session sees no buttons and may not act.
  auto ro = json::parse(req("POST", "/v1/tokens/admin", json{{"name", "viewer"}, {"role", "read"}}.dump(), admin_).body);
  std::string read_session = dashboard_login(*client_, ro["token"]);
  ASSERT_FALSE(read_session.empty());
  auto read_page = dashboard_get(*client_, "/fixes/CVE-2026-99362", read_session);
  EXPECT_EQ(read_page.status, 200);
  EXPECT_EQ(read_page.body.find("/halt\""), std::string::npos);
  auto denied = dashboard_post(*client_, halt, read_session, "csrf=" + halt_token);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("read role"), std::string::npos);
  EXPECT_EQ(state(), "running");

  // The admin's own form: halted, as by the API (its bundles blocked, audited as the token).
  auto done = dashboard_post(*client_, halt, admin_session, "csrf=" + halt_token + "&back=fix");
  EXPECT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(done.headers["location"], "/fixes/CVE-2026-99362");
  EXPECT_EQ(state(), "halted");
  const json halted_bundles = json::parse(req("GET", "/v1/bundles", "", admin_).body);  // alive across the loop
  for (const auto& b : halted_bundles["bundles"]) EXPECT_TRUE(b["blocked"].get<bool>());
  auto audit = json::parse(req("GET", "/v1/audit", "", admin_).body)["entries"][0];
  EXPECT_EQ(audit["action"], "rollout.halt");
  EXPECT_NE(audit["actor"].get<std::string>().find("bootstrap"), std::string::npos);
  auto halted_page = dashboard_get(*client_, "/fixes/CVE-2026-99362", admin_session);
  EXPECT_NE(halted_page.body.find("data-kind=\"halt\""), std::string::npos);
  std::string resume = "/rollouts/" + id + "/resume";
  std::string resume_token = form_token_in(halted_page.body, resume);
  ASSERT_EQ(resume_token.size(), 64u);
  EXPECT_EQ(dashboard_post(*client_, resume, admin_session, "csrf=" + resume_token).status, 303);
  EXPECT_EQ(state(), "running");
  (void)a2;
}

// ---- issue 17: hostile hosts, halts that must be whole, admins who must not lock themselves out

// A failure report counts only for a bundle the host was offered: a host of another group
// naming the bundle gets 409 not_offered, nothing is counted and the rollout keeps running.
TEST_F(ServerTest, FailureForABundleNeverOfferedIsRefusedAndNotCounted) {
  Host web = enroll(enroll_token("web"), "web-1");
  Host db = enroll(enroll_token("db"), "db-1");
  std::string sha = publish(bundle("nr_fix", 1));
  std::string id = rollout(sha, json::array({{{"percent", 100}, {"soak_seconds", 3600}, {"failure_budget", 0}}}),
                           json::array({"web"}));
  auto fail_report = [&](const Host& h) {
    auto body = json{{"host_id", h.id}, {"state", "failed"}, {"kernel", json::parse(kernel_json())},
                     {"bundle_sha256", sha}, {"errors", {"forged"}}};
    return req("POST", "/v1/report", body.dump(), h.credential);
  };
  auto forged = fail_report(db);
  EXPECT_EQ(forged.status, 409) << forged.body;
  EXPECT_EQ(error_code(forged), "not_offered");
  EXPECT_NE(forged.body.find(sha), std::string::npos) << "the error names the bundle: " << forged.body;
  now_ += 1;
  for (int i = 0; i < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
  EXPECT_EQ(status["state"], "running") << status.dump();
  EXPECT_EQ(status["counts"]["failed"], 0);
  EXPECT_FALSE(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"][0]["blocked"].get<bool>());
  // The web host, offered the bundle, may report its failure, and it counts.
  ASSERT_FALSE(json::parse(req("POST", "/v1/checkin", checkin_body(), web.credential).body)["offer"].is_null());
  EXPECT_EQ(fail_report(web).status, 200);
  for (int i = 0; i < 100; ++i) {
    status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
    if (status["state"] == "halted") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["state"], "halted");
  EXPECT_EQ(status["counts"]["failed"], 1);
}

// DELETE /v1/hosts/{id}: the host's credential stops working at once.
TEST_F(ServerTest, RevokedHostCredentialGets401) {
  Host h = enroll(enroll_token("web"), "web-1");
  Host other = enroll(enroll_token("web"), "web-2");
  ASSERT_EQ(req("POST", "/v1/checkin", checkin_body(), h.credential).status, 200);  // cached now
  auto ro = json::parse(req("POST", "/v1/tokens/admin", json{{"role", "read"}, {"name", "viewer"}}.dump(), admin_).body);
  EXPECT_EQ(req("DELETE", "/v1/hosts/" + h.id, "", ro["token"]).status, 403);
  EXPECT_EQ(req("DELETE", "/v1/hosts/h_000000000000000000000000", "", admin_).status, 404);
  EXPECT_EQ(req("DELETE", "/v1/hosts/web-1", "", admin_).status, 400);
  auto del = req("DELETE", "/v1/hosts/" + h.id, "", admin_);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json::parse(del.body)["revoked"], h.id);
  auto denied = req("POST", "/v1/checkin", checkin_body(), h.credential);
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(error_code(denied), "unauthorized");
  auto body = json{{"host_id", h.id}, {"state", "idle"}, {"kernel", json::parse(kernel_json())}};
  EXPECT_EQ(req("POST", "/v1/report", body.dump(), h.credential).status, 401);
  EXPECT_EQ(req("POST", "/v1/checkin", checkin_body(), other.credential).status, 200);
  auto hj = json::parse(req("GET", "/v1/hosts/" + h.id, "", admin_).body);
  EXPECT_EQ(hj["state"], "revoked");
  EXPECT_EQ(hj["history"][0]["kind"], "revoked");
  EXPECT_EQ(json::parse(req("GET", "/v1/audit", "", admin_).body)["entries"][0]["action"], "host.revoke");
}

// A /v1 write declares its body: JSON, or the .nrp bytes on an upload (issue 17 item 8). A
// form another site can send without a preflight is refused 415 and changes nothing.
TEST_F(ServerTest, WritesNeedTheirBodysContentType) {
  std::string pin = json{{"group", "web"}, {"until", 4102444800}}.dump();
  for (const char* type : {"Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded",
                           "Content-Type: multipart/form-data; boundary=x", "Content-Type: application/jsonp"}) {
    auto r = req("POST", "/v1/pins", pin, admin_, {type});
    EXPECT_EQ(r.status, 415) << type << " " << r.body;
    EXPECT_EQ(error_code(r), "unsupported_media_type");
    EXPECT_NE(r.body.find("Content-Type: application/json"), std::string::npos) << r.body;
  }
  auto bare = req("POST", "/v1/pins", pin, admin_, {"Content-Type:"});  // no header at all
  EXPECT_EQ(bare.status, 415) << bare.body;
  EXPECT_NE(bare.body.find("missing"), std::string::npos) << bare.body;
  EXPECT_EQ(json::parse(req("GET", "/v1/pins", "", admin_).body)["pins"].size(), 0u);
  EXPECT_EQ(req("POST", "/v1/pins", pin, admin_, {"Content-Type: Application/JSON; charset=utf-8"}).status, 201);
  // No body, no header needed; a form with no fields still says text/plain and is refused.
  EXPECT_EQ(req("DELETE", "/v1/pins/web", "", admin_, {"Content-Type: text/plain"}).status, 415);
  EXPECT_EQ(json::parse(req("GET", "/v1/pins", "", admin_).body)["pins"].size(), 1u);
  EXPECT_EQ(req("DELETE", "/v1/pins/web", "", admin_).status, 200);
  // Agents' writes too; a token-less caller still learns only 401.
  Host h = enroll(enroll_token("web"));
  EXPECT_EQ(req("POST", "/v1/checkin", checkin_body(), h.credential, {"Content-Type: text/plain"}).status, 415);
  EXPECT_EQ(req("POST", "/v1/pins", pin, "", {"Content-Type: text/plain"}).status, 401);
  // The upload takes the .nrp bytes as application/octet-stream, refused before its body is read.
  std::string nrp = bundle("nr_fix", 1);
  auto as_json = req("POST", "/v1/bundles", nrp, admin_, {"Content-Type: application/json"});
  EXPECT_EQ(as_json.status, 415) << as_json.body;
  EXPECT_NE(as_json.body.find("Content-Type: application/octet-stream"), std::string::npos) << as_json.body;
  EXPECT_EQ(req("POST", "/v1/bundles", nrp, admin_, {"Content-Type:"}).status, 415);
  EXPECT_EQ(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"].size(), 0u);
  EXPECT_EQ(publish(nrp).size(), 64u);
}

// An enrollment token created without max_uses enrolls at most 100 hosts.
TEST_F(ServerTest, EnrollmentTokenWithoutMaxUsesIsLimitedTo100) {
  auto r = req("POST", "/v1/tokens/enrollment", json{{"group", "web"}}.dump(), admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto explicit_unlimited = req("POST", "/v1/tokens/enrollment", json{{"group", "db"}, {"max_uses", 0}}.dump(), admin_);
  ASSERT_EQ(explicit_unlimited.status, 201);
  auto list = json::parse(req("GET", "/v1/tokens/enrollment", "", admin_).body)["tokens"];
  ASSERT_EQ(list.size(), 2u);
  std::map<std::string, std::int64_t> max_uses;  // by token id (the list is ordered by time, then id)
  for (const auto& t : list) max_uses[t["id"]] = t["max_uses"];
  EXPECT_EQ(max_uses[json::parse(r.body)["id"]], 100);
  EXPECT_EQ(max_uses[json::parse(explicit_unlimited.body)["id"]], 0);
  EXPECT_EQ(req("POST", "/v1/tokens/enrollment", json{{"max_uses", -1}}.dump(), admin_).status, 400);
}

// The last admin-role token cannot be revoked (read tokens do not count); with a second
// admin token, the first can go.
TEST_F(ServerTest, LastAdminTokenCannotBeRevoked) {
  auto tokens = json::parse(req("GET", "/v1/tokens/admin", "", admin_).body)["tokens"];
  ASSERT_EQ(tokens.size(), 1u);
  std::string boot_id = tokens[0]["id"];
  auto ro = json::parse(req("POST", "/v1/tokens/admin", json{{"role", "read"}, {"name", "viewer"}}.dump(), admin_).body);
  auto last = req("DELETE", "/v1/tokens/admin/" + boot_id, "", admin_);
  EXPECT_EQ(last.status, 409) << last.body;
  EXPECT_EQ(error_code(last), "last_admin_token");
  EXPECT_NE(last.body.find("create another first"), std::string::npos) << last.body;
  EXPECT_EQ(req("GET", "/v1/fleet", "", admin_).status, 200);  // still works
  auto second = json::parse(req("POST", "/v1/tokens/admin", json{{"role", "admin"}, {"name", "ops"}}.dump(), admin_).body);
  EXPECT_EQ(req("DELETE", "/v1/tokens/admin/" + boot_id, "", second["token"]).status, 200);
  EXPECT_EQ(req("GET", "/v1/fleet", "", admin_).status, 401);
  EXPECT_EQ(req("DELETE", "/v1/tokens/admin/" + second["id"].get<std::string>(), "", second["token"]).status, 409);
  EXPECT_EQ(req("DELETE", "/v1/tokens/admin/" + ro["id"].get<std::string>(), "", second["token"]).status, 200);
  EXPECT_EQ(req("DELETE", "/v1/tokens/admin/t_0000000000000000", "", second["token"]).status, 404);
}

// The bootstrap token is handed to `keep` (main writes DATA/admin.token) before it is
// committed: when keeping fails nothing is committed and the next start makes one; a store
// with only read tokens gets an admin token too.
TEST_F(ServerTest, BootstrapTokenIsKeptBeforeItIsCommitted) {
  auto s = open_sqlite_store((dir_ / "other").string());
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto v = make_bundle_verifier({(dir_ / "pub.pub").string()});
  ASSERT_TRUE(v.ok());
  Api api(**s, *v, ApiOptions{}, [this] { return now_.load(); });
  ASSERT_TRUE((*s)->create_token({"t_r", "admin", "read", "viewer", "", {}, 0, 0, 0, false, 1}, "rhash").ok());
  auto full_disk = api.bootstrap_admin_token([](const std::string&) -> Status {
    return Error(Errc::io, "cannot write admin.token: No space left on device");
  });
  EXPECT_FALSE(full_disk.ok());
  EXPECT_EQ(*(*s)->count_usable_admins(now_.load()), 0);
  std::string kept;
  auto tok = api.bootstrap_admin_token([&](const std::string& secret) -> Status {
    kept = secret;
    return ok_status();
  });
  ASSERT_TRUE(tok.ok()) << tok.error().message();
  EXPECT_EQ(*tok, kept);
  EXPECT_EQ(tok->rfind("nra_", 0), 0u);
  EXPECT_EQ(*(*s)->count_usable_admins(now_.load()), 1);
  EXPECT_EQ(*api.bootstrap_admin_token(), "");  // one exists: nothing new
}

// The automatic halt is one transaction: while its second write fails (the failpoint in
// place of a crash or a lost database) the rollout stays running and the bundle unblocked,
// and the next tick makes the whole halt.
TEST_F(ServerTest, AutomaticHaltIsWholeOrNotAtAll) {
  if (!failpoint_compiled_in()) GTEST_SKIP() << "built without NOREBOOT_FAILPOINTS";
  Host h = enroll(enroll_token("web"), "web-1");
  std::string sha = publish(bundle("nr_fix", 1));
  std::string id = rollout(sha, json::array({{{"percent", 100}, {"soak_seconds", 3600}, {"failure_budget", 0}}}));
  ASSERT_FALSE(json::parse(req("POST", "/v1/checkin", checkin_body(), h.credential).body)["offer"].is_null());
  ::setenv("NOREBOOT_FAILPOINTS", "store.halt.between_writes=error", 1);
  auto body = json{{"host_id", h.id}, {"state", "failed"}, {"kernel", json::parse(kernel_json())},
                   {"bundle_sha256", sha}, {"errors", {"stuck"}}};
  EXPECT_EQ(req("POST", "/v1/report", body.dump(), h.credential).status, 200);
  for (int i = 0; i < 10; ++i) {
    now_ += 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
  EXPECT_EQ(status["state"], "running") << status.dump();
  EXPECT_FALSE(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"][0]["blocked"].get<bool>());
  ::unsetenv("NOREBOOT_FAILPOINTS");
  for (int i = 0; i < 100; ++i) {
    now_ += 1;
    status = json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body);
    if (status["state"] == "halted") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["state"], "halted");
  EXPECT_TRUE(json::parse(req("GET", "/v1/bundles", "", admin_).body)["bundles"][0]["blocked"].get<bool>());
}

// The fleet's `exposed` entries count from the same classification as GET /v1/fixes (fix_groups
// in api_fixes.cc): per kernel, each fix's exposed hosts, and hosts_exposed counting a host
// once however many fixes it lacks; a kernel whose bundles are all blocked still shows its
// exposed hosts.
TEST_F(FixTest, FleetExposedCountsEachHostAsThePerFixGroupsDo) {
  NfsdFix fix;
  ASSERT_NO_FATAL_FAILURE(publish_nfsd_fix(fix));
  const std::string &sha55 = fix.sha55, &sha56 = fix.sha56;
  std::string b56v2 = fix_bundle(kK56, "nr_nfsd_2", 20, {{"CVE-2026-99362", "nfsd: use after free"}, {"CVE-2026-99999", "ext4"}});
  std::string sha56v2 = publish(b56v2);
  FixRecord second = record({built(kK56, b56v2, "nr_nfsd_2", 20),
                             {kK55.release, kK55.debian, KernelOutcome::does_not_apply, std::nullopt, "hunk 1 FAILED"}});
  second.fixes = {{"CVE-2026-99999", "ext4"}};
  ASSERT_EQ(post_record(second).status, 201);

  std::string tok = enroll_token("web");
  Host a1 = enroll_on(tok, "a1", kK55), a2 = enroll_on(tok, "a2", kK55);
  Host b1 = enroll_on(tok, "b1", kK56), b2 = enroll_on(tok, "b2", kK56), b3 = enroll_on(tok, "b3", kK56);
  Host c1 = enroll_on(tok, "c1", kK57);
  checkin_on(a1, kK55, sha55, 10);                     // patched for 99362; 99999 not built here
  checkin_on(b1, kK56, sha56v2, 20, "nr_nfsd_2");      // patched for both
  checkin_on(b2, kK56, sha56, 10);                     // exposed to 99999 only
  // a2 (6.1.0-55) exposed to 99362; b3 (6.1.0-56) exposed to both; c1 already fixed.

  // For every fix and kernel, /v1/fleet's number is /v1/fixes' exposed group for that kernel.
  auto check = [&](const std::string& when) {
    auto fleet = json::parse(req("GET", "/v1/fleet", "", admin_).body);
    auto fixes = json::parse(req("GET", "/v1/fixes", "", admin_).body)["fixes"];
    ASSERT_EQ(fixes.size(), 2u) << when;
    for (const auto& f : fixes) {
      std::int64_t in_fleet = 0;
      for (const auto& e : fleet["exposed"])
        for (const auto& x : e["fixes"])
          if (x["id"] == f["id"]) {
            in_fleet += x["hosts"].get<std::int64_t>();
            std::int64_t in_fix = 0;
            for (const auto& k : f["hosts"]["exposed"]["kernels"])
              if (k["build_id"] == e["build_id"]) in_fix += k["count"].get<std::int64_t>();
            EXPECT_EQ(x["hosts"], in_fix) << when << ": " << f["id"] << " on " << e["release"];
          }
      EXPECT_EQ(in_fleet, f["hosts"]["exposed"]["count"].get<std::int64_t>()) << when << ": " << f["id"] << fleet.dump();
    }
  };
  check("before any halt");
  auto fleet = json::parse(req("GET", "/v1/fleet", "", admin_).body);
  ASSERT_EQ(fleet["exposed"].size(), 2u) << fleet.dump();  // -55 and -56; -57 has nothing to expose
  const json& e55 = fleet["exposed"][0];
  const json& e56 = fleet["exposed"][1];
  EXPECT_EQ(e55["release"], kK55.release);
  EXPECT_EQ(e55["hosts_exposed"], 1);  // a2
  EXPECT_EQ(e55["fixes"], json::parse(R"([{"id": "CVE-2026-99362", "hosts": 1}])"));
  EXPECT_EQ(e56["release"], kK56.release);
  EXPECT_EQ(e56["hosts_exposed"], 2);  // b2 and b3, b3 once although it lacks both fixes
  EXPECT_EQ(e56["fixes"], json::parse(R"([{"id": "CVE-2026-99362", "hosts": 1}, {"id": "CVE-2026-99999", "hosts": 2}])"));
  EXPECT_EQ(e56["latest_sequence"], 20);
  EXPECT_EQ(e56["hosts_behind"], 2);  // b2 (10) and b3 (nothing) are below 20

  // Halting a rollout of the -55 bundle blocks it: -55 has no unblocked bundle left, and its
  // exposed host is still counted there.
  std::string id = rollout(sha55, json::parse(R"([{"percent": 100}])"));
  ASSERT_EQ(req("POST", "/v1/rollouts/" + id + "/halt", json{{"reason", "test"}}.dump(), admin_).status, 200);
  fleet = json::parse(req("GET", "/v1/fleet", "", admin_).body);
  ASSERT_EQ(fleet["exposed"].size(), 2u) << fleet.dump();
  EXPECT_EQ(fleet["exposed"][0]["release"], kK55.release);
  EXPECT_EQ(fleet["exposed"][0]["latest_sequence"], 0);
  EXPECT_EQ(fleet["exposed"][0]["hosts_behind"], 0);
  EXPECT_EQ(fleet["exposed"][0]["hosts_exposed"], 1);
  check("after the -55 bundle was blocked");

  // b3 takes the cumulative bundle: -56 keeps one host exposed (b2, to 99999).
  checkin_on(b3, kK56, sha56v2, 20, "nr_nfsd_2");
  fleet = json::parse(req("GET", "/v1/fleet", "", admin_).body);
  EXPECT_EQ(fleet["exposed"][1]["hosts_exposed"], 1) << fleet.dump();
  EXPECT_EQ(fleet["exposed"][1]["fixes"], json::parse(R"([{"id": "CVE-2026-99999", "hosts": 1}])"));
  check("after b3 moved to the cumulative bundle");
  (void)a2; (void)c1;
}


// ---- approval (api_approve.cc) and audit entries from tools (api_feed_audit.cc) ----------------

// A second admin-role token (or a read one) with a name: the audit log names it.
std::string named_token(Client& c, const std::string& admin, const std::string& name, const std::string& role) {
  auto r = c.request("POST", "/v1/tokens/admin", json{{"name", name}, {"role", role}}.dump(), admin, {});
  EXPECT_EQ(r.status, 201) << r.body;
  return json::parse(r.body).value("token", "");
}

TEST_F(FixTest, RolloutAwaitingApprovalOffersNothingUntilAnOperatorApprovesItOnce) {
  NfsdFix fix;
  ASSERT_NO_FATAL_FAILURE(publish_nfsd_fix(fix));
  std::string tok = enroll_token("web");
  Host a1 = enroll_on(tok, "a1", kK55);
  auto offer = [&](const Host& h, const TestKernel& k) {
    auto reply = req("POST", "/v1/checkin",
                     json{{"kernel", k.identity()}, {"applied", nullptr}, {"state", "idle"}, {"agent_version", "t"}}.dump(),
                     h.credential);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return json::parse(reply.body)["offer"];
  };
  EXPECT_EQ(req("POST", "/v1/fixes/CVE-2026-99362/approve", "{}", admin_).status, 404);  // no rollout yet
  auto created = req("POST", "/v1/rollouts",
                     json{{"fix", "CVE-2026-99362"}, {"await_approval", true},
                          {"stages", {{{"percent", 100}, {"soak_seconds", 600}, {"failure_budget", 0}}}}}.dump(),
                     admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = json::parse(created.body)["id"];
  EXPECT_EQ(json::parse(created.body)["state"], "awaiting_approval");
  EXPECT_TRUE(offer(a1, kK55).is_null());
  now_ += 7200;  // far past the soak: the ticker must not start or complete it
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(json::parse(req("GET", "/v1/rollouts/" + id, "", admin_).body)["state"], "awaiting_approval");
  EXPECT_EQ(json::parse(req("GET", "/v1/fleet", "", admin_).body)["rollouts"]["awaiting_approval"], 1);
  EXPECT_TRUE(offer(a1, kK55).is_null());

  std::string reader = named_token(*client_, admin_, "viewer", "read");
  EXPECT_EQ(req("POST", "/v1/fixes/CVE-2026-99362/approve", "{}", reader).status, 403);
  EXPECT_EQ(req("POST", "/v1/fixes/not%20an%20id/approve", "{}", admin_).status, 400);
  EXPECT_EQ(req("GET", "/v1/fixes/CVE-2026-99362/approve", "", admin_).status, 405);
  std::string oncall = named_token(*client_, admin_, "oncall", "admin");
  auto approved = req("POST", "/v1/fixes/CVE-2026-99362/approve", "{}", oncall);
  ASSERT_EQ(approved.status, 200) << approved.body;
  auto aj = json::parse(approved.body);
  ASSERT_EQ(aj["rollouts"].size(), 1u);
  EXPECT_EQ(aj["rollouts"][0]["state"], "running");
  EXPECT_EQ(aj["rollouts"][0]["stage_started_at"], now_.load());
  EXPECT_EQ(offer(a1, kK55)["sha256"], fix.sha55);

  auto twice = req("POST", "/v1/fixes/CVE-2026-99362/approve", "{}", admin_);
  EXPECT_EQ(twice.status, 409);
  EXPECT_NE(message(twice).find("already approved"), std::string::npos) << message(twice);
  EXPECT_NE(message(twice).find("(oncall)"), std::string::npos) << message(twice);
  EXPECT_EQ(req("POST", "/v1/rollouts/" + id + "/approve", "", admin_).status, 409);

  auto audit = json::parse(req("GET", "/v1/audit?action=rollout.approve", "", admin_).body)["entries"];
  ASSERT_EQ(audit.size(), 1u) << audit.dump();
  EXPECT_NE(audit[0]["actor"].get<std::string>().find("(oncall)"), std::string::npos);
  EXPECT_EQ(audit[0]["detail"]["fix"], "CVE-2026-99362");
  EXPECT_EQ(audit[0]["detail"]["id"], id);
}

TEST_F(ServerTest, ToolsRecordAuditEntriesUnderTheirTokenButNeverTheServersOwnActions) {
  std::string feed = named_token(*client_, admin_, "feed", "admin");
  std::string reader = named_token(*client_, admin_, "viewer", "read");
  json entry = {{"action", "feed.tested"},
                {"detail", {{"version", "6.1.192-3"}, {"kernel", "6.1.0-56-amd64"}, {"result", "passed"}}}};
  auto r = req("POST", "/v1/audit", entry.dump(), feed);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(req("POST", "/v1/audit", entry.dump(), reader).status, 403);
  EXPECT_EQ(req("POST", "/v1/audit", entry.dump()).status, 401);
  for (const json& bad : {json{{"action", "rollout.approve"}}, json{{"action", "feed."}}, json{{"action", "feed.Tested"}},
                          json{{"detail", json::object()}}, json{{"action", "feed.x"}, {"detail", json::array()}},
                          json{{"action", "feed.x"}, {"detail", {{"log", std::string(20000, 'x')}}}}}) {
    auto refused = req("POST", "/v1/audit", bad.dump(), feed);
    EXPECT_EQ(refused.status, 400) << bad.dump().substr(0, 100);
    EXPECT_EQ(error_code(refused), "invalid_input");
  }
  auto mine = json::parse(req("GET", "/v1/audit?action=feed.", "", reader).body)["entries"];
  ASSERT_EQ(mine.size(), 1u) << mine.dump();
  EXPECT_EQ(mine[0]["action"], "feed.tested");
  EXPECT_NE(mine[0]["actor"].get<std::string>().find("(feed)"), std::string::npos);
  EXPECT_EQ(mine[0]["detail"]["result"], "passed");
  auto all = json::parse(req("GET", "/v1/audit", "", admin_).body)["entries"];
  EXPECT_EQ(all[0]["action"], "feed.tested");  // newest first, with the server's own entries
  EXPECT_GT(all.size(), 1u);
}

}  // namespace
}  // namespace noreboot::server
