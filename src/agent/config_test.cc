#include "agent/config.h"

#include <gtest/gtest.h>

namespace noreboot::agent {
namespace {

TEST(Config, ParsesEverySetting) {
  auto c = parse_config(R"(
server = "https://patches.example.net:8443/"
trusted_keys = ["/etc/noreboot/keys/a.pub", "/etc/noreboot/keys/b.pub"]
state_dir = "/srv/noreboot"
[checkin]
interval_seconds = 60
jitter_seconds = 5
long_poll_seconds = 20
[timeouts]
transition_seconds = 2.5
signal_seconds = 1
reverse_seconds = 10
watch_seconds = 0
settle_seconds = 30
[[maintenance_window]]
days = ["sat", "Sunday"]
start = "22:00"
end = "02:00"
)",
                        "agent.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server, "https://patches.example.net:8443");
  ASSERT_EQ(c->trusted_keys.size(), 2u);
  EXPECT_EQ(c->state_dir, "/srv/noreboot");
  EXPECT_EQ(c->interval_seconds, 60);
  EXPECT_DOUBLE_EQ(c->transition_seconds, 2.5);
  EXPECT_EQ(c->settle_seconds, 30);
  ASSERT_EQ(c->windows.size(), 1u);
  EXPECT_EQ(c->windows[0].days_mask, (1u << 6) | 1u);
  EXPECT_EQ(c->windows[0].start_minute, 22 * 60);
}

TEST(Config, DefaultsWhenEmpty) {
  auto c = parse_config("", "agent.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state_dir, "/var/lib/noreboot");
  EXPECT_TRUE(c->windows.empty());
}

TEST(Config, ErrorsNameTheFileAndTheProblem) {
  struct Case { const char* text; const char* expect; };
  for (auto [text, expect] : {
           Case{"sever = \"x\"", "unknown key 'sever'"},
           Case{"server = \"ftp://x\"", "must start with https://"},
           Case{"[timeouts]\ntransition = 3", "unknown key 'timeouts.transition'"},
           Case{"[timeouts]\ntransition_seconds = \"3\"", "must be a number"},
           Case{"[timeouts]\ntransition_seconds = -1", "must be at least"},
           Case{"[[maintenance_window]]\nstart = \"25:00\"\nend = \"01:00\"", "must be a time like"},
           Case{"[[maintenance_window]]\ndays=[\"someday\"]\nstart = \"01:00\"\nend = \"02:00\"", "unknown day"},
           Case{"server = ", "line 1"},
           Case{"\n[timeouts]\nsignal_seconds = -1", "line 3: 'timeouts.signal_seconds' must be at least 0, got -1"},
           Case{"[checkin]\n\nlong_poll = 5", "line 3: unknown key 'checkin.long_poll' (known: interval_seconds, "},
       }) {
    auto c = parse_config(text, "/etc/noreboot/agent.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message().find("/etc/noreboot/agent.toml"), std::string::npos);
    EXPECT_NE(c.error().message().find(expect), std::string::npos) << c.error().message();
  }
}

TEST(MaintenanceWindow, SameDayAndAcrossMidnight) {
  // 2026-11-21 is a Saturday.
  auto at = [](int day, int h, int m) {
    std::tm tm{};
    tm.tm_year = 2026 - 1900; tm.tm_mon = 10; tm.tm_mday = day; tm.tm_hour = h; tm.tm_min = m;
    return timegm(&tm);
  };
  std::vector<MaintenanceWindow> none;
  EXPECT_TRUE(in_maintenance_window(none, at(21, 12, 0)));

  MaintenanceWindow sat_night{1u << 6, 22 * 60, 2 * 60};  // Sat 22:00 -> Sun 02:00
  EXPECT_FALSE(in_maintenance_window({sat_night}, at(21, 21, 59)));
  EXPECT_TRUE(in_maintenance_window({sat_night}, at(21, 23, 0)));
  EXPECT_TRUE(in_maintenance_window({sat_night}, at(22, 1, 30)));   // Sunday early, Saturday's window
  EXPECT_FALSE(in_maintenance_window({sat_night}, at(22, 2, 0)));
  EXPECT_FALSE(in_maintenance_window({sat_night}, at(22, 23, 0)));  // Sunday night: no window

  MaintenanceWindow daily{0x7f, 2 * 60, 4 * 60};
  EXPECT_TRUE(in_maintenance_window({daily}, at(18, 3, 0)));
  EXPECT_FALSE(in_maintenance_window({daily}, at(18, 4, 0)));
}

}  // namespace
}  // namespace noreboot::agent
