// The feed's configuration: defaults, and every kind of mistake named.
#include <gtest/gtest.h>

#include "feed/config.h"

namespace noreboot::feed {
namespace {

const std::string kMinimal =
    "server = \"https://patches.example:8443/\"\n"
    "admin_token_file = \"admin.token\"\n"
    "publisher_key = \"/etc/noreboot/feed/publisher.key\"\n"
    "data_dir = \"/var/lib/noreboot-feed\"\n";

TEST(FeedConfig, MinimalWithDefaults) {
  auto c = parse_config(kMinimal, "feed.toml", "/etc/noreboot");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server, "https://patches.example:8443");
  EXPECT_EQ(c->admin_token_file, "/etc/noreboot/admin.token");  // relative to the config's folder
  EXPECT_EQ(c->read_token_file, c->admin_token_file);
  EXPECT_EQ(c->series, "6.1");
  EXPECT_FALSE(c->manual_approve);
  EXPECT_EQ(c->max_files, 50);
  EXPECT_TRUE(c->test);
  ASSERT_EQ(c->stages.size(), 3u);
  EXPECT_EQ(c->stages[0].percent, 1);
  EXPECT_EQ(c->stages[0].soak_seconds, 600);
  EXPECT_EQ(c->stages[1].soak_seconds, 3600);
  EXPECT_EQ(c->metrics_file, "/var/lib/noreboot-feed/noreboot_feed.prom");
}

TEST(FeedConfig, Everything) {
  auto c = parse_config(kMinimal +
                            "approve = \"manual\"\nmax_files = 10\nkernels = [\"6.1.0-*-amd64\"]\n"
                            "start_after = \"6.1.192-1\"\ntest = false\n"
                            "[[stages]]\npercent = 5\nsoak_seconds = 60\n[[stages]]\npercent = 100\n"
                            "[tools]\nbuild = \"/opt/nr/noreboot-build\"\n",
                        "feed.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(c->manual_approve);
  EXPECT_EQ(c->max_files, 10);
  EXPECT_EQ(c->kernels, std::vector<std::string>{"6.1.0-*-amd64"});
  EXPECT_EQ(c->start_after, "6.1.192-1");
  EXPECT_FALSE(c->test);
  ASSERT_EQ(c->stages.size(), 2u);
  EXPECT_EQ(c->stages[1].percent, 100);
  EXPECT_EQ(c->tools.build, "/opt/nr/noreboot-build");
  EXPECT_EQ(c->tools.admin, "noreboot-admin");
}

void expect_error(const std::string& text, const std::string& words) {
  auto c = parse_config(text, "feed.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << text;
  EXPECT_NE(c.error().message().find(words), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("feed.toml"), std::string::npos) << c.error().message();
}

TEST(FeedConfig, ErrorsNameTheKey) {
  expect_error("server = \n", "line 1");
  expect_error("admin_token_file = \"a\"\npublisher_key = \"k\"\ndata_dir = \"d\"\n", "'server' is missing");
  expect_error("server = \"ftp://x\"\nadmin_token_file = \"a\"\npublisher_key = \"k\"\ndata_dir = \"d\"\n", "https://");
  expect_error("server = \"https://x\"\npublisher_key = \"k\"\ndata_dir = \"d\"\n", "'admin_token_file' is missing");
  expect_error("server = \"https://x\"\nadmin_token_file = \"a\"\ndata_dir = \"d\"\n", "'publisher_key' is missing");
  expect_error("server = \"https://x\"\nadmin_token_file = \"a\"\npublisher_key = \"k\"\n", "'data_dir' is missing");
  expect_error(kMinimal + "aprove = \"auto\"\n", "unknown key 'aprove'");
  expect_error(kMinimal + "approve = \"yes\"\n", "'approve' must be \"auto\" or \"manual\"");
  expect_error(kMinimal + "max_files = 0\n", "'max_files' must be between 1");
  expect_error(kMinimal + "max_files = \"ten\"\n", "'max_files' must be a whole number");
  expect_error(kMinimal + "kernels = \"6.1.0-56-amd64\"\n", "'kernels' must be an array of strings");
  expect_error(kMinimal + "start_after = \"latest\"\n", "'start_after' must be a Debian version");
  expect_error(kMinimal + "series = \"six\"\n", "'series'");
  expect_error(kMinimal + "test = \"yes\"\n", "'test' must be true or false");
  expect_error(kMinimal + "[[stages]]\npercent = 50\n[[stages]]\npercent = 10\n", "'stages[1].percent' is 10");
  expect_error(kMinimal + "[[stages]]\nsoak_seconds = 5\n", "'stages[0].percent' is missing");
  expect_error(kMinimal + "[[stages]]\npercent = 150\n", "'stages[0].percent' must be between 1 and 100");
  expect_error("max_files = 0\n" + kMinimal, "feed.toml: line 1: 'max_files' must be between 1 and 100000, got 0");
  expect_error(kMinimal + "[tools]\nbuilder = \"x\"\n", "unknown key 'tools.builder'");
}

TEST(FeedConfig, MissingFile) {
  auto c = load_config("/nonexistent/feed.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("/nonexistent/feed.toml"), std::string::npos);
}

}  // namespace
}  // namespace noreboot::feed
