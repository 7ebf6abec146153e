#include "core/api_types.h"

#include <gtest/gtest.h>

namespace noreboot::api {
namespace {

const std::string kBuild = "0123456789abcdef0123456789abcdef01234567";
const std::string kSha(64, 'a');

KernelId kernel() { return {"6.1.0-56-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1", kBuild, "x86_64"}; }

TEST(ApiTypes, CheckinRoundTrip) {
  CheckinRequest req{kernel(), AppliedPatch{"nr_fix", 7, kSha}, AgentState::applied, "0.1.0"};
  auto back = parse_checkin_request(to_json(req));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->kernel.build_id, kBuild);
  ASSERT_TRUE(back->applied.has_value());
  EXPECT_EQ(back->applied->sequence, 7u);
  EXPECT_EQ(back->state, AgentState::applied);

  CheckinRequest none{kernel(), std::nullopt, AgentState::idle, ""};
  auto back2 = parse_checkin_request(to_json(none));
  ASSERT_TRUE(back2.ok());
  EXPECT_FALSE(back2->applied.has_value());
}

TEST(ApiTypes, CheckinResponseRoundTrip) {
  CheckinResponse r;
  r.host_id = "h_1";
  r.offer = Offer{kSha, "/v1/bundles/" + kSha, kSha, 1234, 3, "nr_fix", "r_1"};
  auto back = parse_checkin_response(to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_TRUE(back->offer.has_value());
  EXPECT_EQ(back->offer->size, 1234u);
  EXPECT_EQ(back->offer->rollout_id, "r_1");
  CheckinResponse empty;
  auto back2 = parse_checkin_response(to_json(empty));
  ASSERT_TRUE(back2.ok());
  EXPECT_FALSE(back2->offer.has_value());
}

TEST(ApiTypes, ReportRoundTrip) {
  ReportRequest r;
  r.host_id = "h_1";
  r.state = AgentState::failed;
  r.kernel = kernel();
  r.bundle_sha256 = kSha;
  r.errors = {"transition stuck"};
  r.blocked_tasks = {{42, "kworker", "schedule\nfoo"}};
  r.kernel_warnings = {"WARNING: at x"};
  auto back = parse_report_request(to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->blocked_tasks.at(0).pid, 42);
  EXPECT_EQ(back->errors.at(0), "transition stuck");
}

TEST(ApiTypes, RejectsBadInputNamingTheField) {
  auto e = parse_checkin_request("{");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("not valid JSON"), std::string::npos);
  auto e2 = parse_checkin_request(R"({"kernel":{"release":"x","build_id":"ZZ","arch":"x86_64"},"state":"idle"})");
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(e2.error().message().find("kernel.build_id"), std::string::npos);
  auto e3 = parse_checkin_request(
      R"({"kernel":{"release":"x","build_id":"ab","arch":"x86_64"},"state":"dancing"})");
  ASSERT_FALSE(e3.ok());
  EXPECT_NE(e3.error().message().find("state"), std::string::npos);
  auto e4 = parse_checkin_request(
      R"({"kernel":{"release":"x","build_id":"ab","arch":"x86_64"},"state":"idle","applied":{"name":"a'; DROP TABLE hosts;--","sequence":1,"bundle_sha256":"aa"}})");
  ASSERT_FALSE(e4.ok());
  EXPECT_NE(e4.error().message().find("applied.name"), std::string::npos);
  auto e5 = parse_checkin_request("[1,2]");
  ASSERT_FALSE(e5.ok());
  auto e6 = parse_checkin_request(
      R"({"kernel":{"release":"x","build_id":"ab","arch":"x86_64"},"state":"idle","applied":{"name":"a","sequence":-1,"bundle_sha256":")" + kSha + "\"}}");
  ASSERT_FALSE(e6.ok());
  EXPECT_NE(e6.error().message().find("applied.sequence"), std::string::npos);
}

TEST(ApiTypes, RolloutCreateValidation) {
  RolloutCreate c;
  c.bundle_sha256 = kSha;
  c.groups = {"web"};
  c.stages = {{1, 60, 0}, {50, 600, 2}, {100, 0, 5}};
  c.window = MaintenanceWindow{22 * 60, 4 * 60};
  auto back = parse_rollout_create(to_json(c));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->stages.size(), 3u);
  EXPECT_EQ(back->window->start_minute, 22 * 60);
  EXPECT_FALSE(parse_rollout_create(R"({"bundle_sha256":")" + kSha + R"(","stages":[]})").ok());
  auto shrink = parse_rollout_create(R"({"bundle_sha256":")" + kSha +
                                     R"(","stages":[{"percent":50},{"percent":10}]})");
  ASSERT_FALSE(shrink.ok());
  EXPECT_NE(shrink.error().message().find("stages[1].percent"), std::string::npos);
  EXPECT_FALSE(parse_rollout_create(R"({"bundle_sha256":"../../etc/passwd","stages":[{"percent":5}]})").ok());
  // A fix rollout names a fix id instead of a bundle; not both.
  RolloutCreate f;
  f.fix = "CVE-2026-99362";
  f.stages = {{100, 0, 1}};
  auto fb = parse_rollout_create(to_json(f));
  ASSERT_TRUE(fb.ok()) << fb.error().message();
  EXPECT_EQ(fb->fix, "CVE-2026-99362");
  EXPECT_TRUE(fb->bundle_sha256.empty());
  auto both = parse_rollout_create(R"({"fix":"CVE-1","bundle_sha256":")" + kSha + R"(","stages":[{"percent":5}]})");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message().find("not both"), std::string::npos);
  EXPECT_FALSE(parse_rollout_create(R"({"fix":"CVE 1/../x","stages":[{"percent":5}]})").ok());
  EXPECT_FALSE(parse_window("25:00-01:00").ok());
  EXPECT_EQ(format_window(*parse_window("22:05-04:00")), "22:05-04:00");
}

TEST(ApiTypes, ErrorBody) {
  auto e = parse_api_error(to_json(ApiError{"unauthorized", "bad token"}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "unauthorized");
}

}  // namespace
}  // namespace noreboot::api
