// noreboot-feed's command line: the usage errors answer 2 with a message naming the argument,
// before any configuration is read.
#include "feed/cli.h"

#include <gtest/gtest.h>

#include <sstream>

namespace noreboot::feed {
namespace {

struct Run {
  int code;
  std::string out, err;
};

Run feed(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = feed_main(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(FeedCli, HelpListsTheCommands) {
  for (auto args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"status", "--help"}}) {
    auto r = feed(args);
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("noreboot-feed run --config FILE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("noreboot-feed status --config FILE [--json]"), std::string::npos) << r.out;
  }
  auto none = feed({});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("usage:"), std::string::npos);
}

TEST(FeedCli, UsageErrorsNameTheArgument) {
  for (auto [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"frobnicate"}, "noreboot-feed: unknown command 'frobnicate'"},
           {{"run", "--json"}, "noreboot-feed run: unknown option '--json'"},
           {{"status", "--config"}, "noreboot-feed status: option --config needs a value"},
           {{"status", "extra"}, "noreboot-feed status: unexpected argument 'extra'"},
       }) {
    auto r = feed(args);
    EXPECT_EQ(r.code, 2) << want;
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), want);
  }
}

TEST(FeedCli, AMissingConfigIsAConfigurationError) {
  auto r = feed({"status", "--config", "/nonexistent/feed.toml", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/feed.toml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace noreboot::feed
