// RouteTable: patterns, captures, 404 versus 405 with the allowed methods, HEAD through GET.
#include "server/route_table.h"

#include <gtest/gtest.h>

namespace noreboot::server {
namespace {

TEST(SplitPath, SegmentsAsSent) {
  EXPECT_EQ(split_path("/"), std::vector<std::string>{});
  EXPECT_EQ(split_path("/v1/hosts/h_1"), (std::vector<std::string>{"v1", "hosts", "h_1"}));
  EXPECT_EQ(split_path("/v1/hosts/"), (std::vector<std::string>{"v1", "hosts", ""}));
}

TEST(PathPattern, FixedWordsAndPlaceholders) {
  PathPattern p("/v1/rollouts/{id}/halt");
  Captures c;
  EXPECT_TRUE(p.match(split_path("/v1/rollouts/r_1/halt"), &c));
  EXPECT_EQ(c.at("id"), "r_1");
  EXPECT_FALSE(p.match(split_path("/v1/rollouts/r_1/resume")));
  EXPECT_FALSE(p.match(split_path("/v1/rollouts//halt")));  // a placeholder is never empty
  EXPECT_FALSE(p.match(split_path("/v1/rollouts/r_1/halt/x")));
  EXPECT_FALSE(p.match(split_path("/v1/rollouts/r_1")));
  PathPattern root("/");
  EXPECT_TRUE(root.match(split_path("/")));
  EXPECT_TRUE(root.match({""}));
  EXPECT_FALSE(root.match(split_path("/x")));
}

using Table = RouteTable<int>;

Table sample() {
  return Table({
      {"GET", PathPattern("/v1/hosts"), Role::reader, 1},
      {"GET", PathPattern("/v1/hosts/{id}"), Role::reader, 2},
      {"DELETE", PathPattern("/v1/hosts/{id}"), Role::admin, 3},
      {"POST", PathPattern("/v1/checkin"), Role::host, 4},
  });
}

TEST(RouteTable, FindsTheRowAndItsCaptures) {
  Table t = sample();
  auto f = t.find("DELETE", split_path("/v1/hosts/h_9"));
  ASSERT_NE(f.route, nullptr);
  EXPECT_EQ(f.route->handler, 3);
  EXPECT_EQ(f.captures.at("id"), "h_9");
  auto g = t.find("GET", split_path("/v1/hosts/h_9"));
  ASSERT_NE(g.route, nullptr);
  EXPECT_EQ(g.route->handler, 2);
}

TEST(RouteTable, HeadIsAnsweredByGet) {
  Table t = sample();
  auto f = t.find("HEAD", split_path("/v1/hosts"));
  ASSERT_NE(f.route, nullptr);
  EXPECT_EQ(f.route->handler, 1);
  EXPECT_EQ(t.find("HEAD", split_path("/v1/checkin")).route, nullptr);  // POST only
}

TEST(RouteTable, UnknownPathIsNotFound) {
  Table t = sample();
  auto f = t.find("GET", split_path("/v1/nope"));
  EXPECT_EQ(f.route, nullptr);
  EXPECT_TRUE(f.same_path.empty());
  EXPECT_TRUE(t.find("GET", split_path("/v1/hosts/h_1/extra")).same_path.empty());
}

TEST(RouteTable, KnownPathWrongMethodListsTheAllowedOnes) {
  Table t = sample();
  auto f = t.find("POST", split_path("/v1/hosts/h_1"));
  EXPECT_EQ(f.route, nullptr);
  EXPECT_EQ(f.same_path.size(), 2u);
  EXPECT_EQ(f.allowed, "GET, HEAD, DELETE");
  auto g = t.find("GET", split_path("/v1/checkin"));
  EXPECT_EQ(g.route, nullptr);
  EXPECT_EQ(g.allowed, "POST");
}

TEST(RouteTable, AnyMethodRowTakesWhatEarlierRowsOfItsPathDoNot) {
  Table t({
      {"POST", PathPattern("/login"), Role::open, 1},
      {"*", PathPattern("/login"), Role::open, 2},
  });
  EXPECT_EQ(t.find("POST", split_path("/login")).route->handler, 1);
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE"}) {
    auto f = t.find(m, split_path("/login"));
    ASSERT_NE(f.route, nullptr) << m;
    EXPECT_EQ(f.route->handler, 2) << m;
  }
  EXPECT_EQ(t.find("GET", split_path("/logout")).route, nullptr);
  EXPECT_EQ(t.patterns(), std::vector<std::string>{"/login"});
}

TEST(RouteTable, PatternsAreDistinctInTableOrder) {
  EXPECT_EQ(sample().patterns(), (std::vector<std::string>{"/v1/hosts", "/v1/hosts/{id}", "/v1/checkin"}));
}

}  // namespace
}  // namespace noreboot::server
