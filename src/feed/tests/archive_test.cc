// apt-cache madison and kernel-fetch --list output; what is new; the fleet's JSON.
#include <gtest/gtest.h>

#include "feed/archive.h"
#include "feed/fleet.h"

namespace noreboot::feed {
namespace {

TEST(Archive, Madison) {
  auto v = parse_madison(
      "linux-source-6.1 |  6.1.192-3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
      "linux-source-6.1 |  6.1.192-1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
      "linux-source-6.1 |  6.1.192-2 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
      "linux-source-6.12 | 6.12.5-1 | http://deb.debian.org/debian trixie/main amd64 Packages\n"
      "W: some warning\n"
      "linux-source-6.1 | not-a-version | x\n",
      "linux-source-6.1");
  EXPECT_EQ(v, (std::vector<std::string>{"6.1.192-1", "6.1.192-2", "6.1.192-3"}));
  EXPECT_EQ(versions_after(v, "6.1.192-1"), (std::vector<std::string>{"6.1.192-2", "6.1.192-3"}));
  EXPECT_TRUE(versions_after(v, "6.1.192-3").empty());
  EXPECT_EQ(version_before(v, "6.1.192-3"), "6.1.192-2");
  EXPECT_EQ(version_before(v, "6.1.192-1"), "");
}

TEST(Archive, KernelList) {
  auto k = parse_kernel_list(
      "6.1.0-48-amd64 6.1.172-1 incomplete missing: linux-headers-6.1.0-48-amd64=6.1.172-1\n"
      "6.1.0-57-amd64 6.1.192-3 complete\n"
      "garbage\n");
  ASSERT_EQ(k.size(), 2u);
  EXPECT_FALSE(k[0].complete);
  EXPECT_EQ(k[1].abi, "6.1.0-57-amd64");
  EXPECT_EQ(k[1].version, "6.1.192-3");
  EXPECT_TRUE(k[1].complete);
}

TEST(Archive, KernelFilter) {
  EXPECT_TRUE(kernel_selected({}, "6.1.0-55-amd64"));
  EXPECT_TRUE(kernel_selected({"6.1.0-*-amd64"}, "6.1.0-55-amd64"));
  EXPECT_FALSE(kernel_selected({"6.1.0-*-amd64"}, "6.1.0-55-arm64"));
  EXPECT_FALSE(kernel_selected({"6.1.0-*-amd64"}, "6.12.0-1-amd64"));
  EXPECT_TRUE(kernel_selected({"x", "6.1.0-55-amd64"}, "6.1.0-55-amd64"));
}

TEST(Fleet, KernelsAndNewestUnblockedBundle) {
  auto fleet = nlohmann::json::parse(R"({"hosts": 3, "by_kernel": [
      {"release": "6.1.0-56-amd64", "build_id": "b", "hosts": 2}, {"release": "6.1.0-55-amd64", "build_id": "a", "hosts": 1}]})");
  auto bundles = nlohmann::json::parse(R"({"bundles": [
      {"sha256": "s1", "sequence": 1, "kernel": {"release": "6.1.0-55-amd64"}, "blocked": false},
      {"sha256": "s3", "sequence": 3, "kernel": {"release": "6.1.0-55-amd64"}, "blocked": true},
      {"sha256": "s2", "sequence": 2, "kernel": {"release": "6.1.0-55-amd64"}, "blocked": false}]})");
  auto v = fleet_from_json(fleet, bundles);
  EXPECT_EQ(v.kernels, (std::vector<std::string>{"6.1.0-55-amd64", "6.1.0-56-amd64"}));
  ASSERT_EQ(v.newest.size(), 1u);
  EXPECT_EQ(v.newest["6.1.0-55-amd64"].sha256, "s2");  // s3 is blocked
}

TEST(Fleet, Rollouts) {
  auto r = nlohmann::json::parse(R"({"rollouts": [{"id": "r_1", "fix": "CVE-2026-1"}, {"id": "r_2", "bundle_sha256": "x"}]})");
  EXPECT_TRUE(has_fix_rollout(r, "CVE-2026-1"));
  EXPECT_FALSE(has_fix_rollout(r, "CVE-2026-2"));
  auto body = fix_rollout_body("CVE-2026-2", default_stages());
  EXPECT_EQ(body["fix"], "CVE-2026-2");
  EXPECT_EQ(body["stages"].size(), 3u);
  EXPECT_EQ(body["stages"][0]["percent"], 1);
  EXPECT_FALSE(body.contains("bundle_sha256"));
  EXPECT_FALSE(body.contains("await_approval"));
  EXPECT_EQ(fix_rollout_body("CVE-2026-2", default_stages(), true)["await_approval"], true);  // approve = "manual"
}

TEST(Fleet, AuditEntries) {
  auto e = audit_body("tested", {{"kernel", "6.1.0-56-amd64"}, {"result", "passed"}});
  EXPECT_EQ(e["action"], "feed.tested");
  EXPECT_EQ(e["detail"]["result"], "passed");
  EXPECT_TRUE(audit_body("failed", nlohmann::json::array())["detail"].is_object());
}

}  // namespace
}  // namespace noreboot::feed
