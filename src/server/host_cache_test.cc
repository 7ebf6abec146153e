// HostCache: hits, re-reads after the ttl, status updates keep the read time.
#include "server/host_cache.h"

#include <gtest/gtest.h>

namespace noreboot::server {
namespace {

HostRecord host(const std::string& id, const std::string& state) {
  HostRecord h;
  h.id = id;
  h.group = "web";
  h.state = state;
  return h;
}

TEST(HostCache, HitsUntilTheTtlThenAsksForARead) {
  HostCache c(60);
  EXPECT_FALSE(c.find("hash1", 1000).has_value());
  c.put("hash1", host("h_1", "idle"), 1000);
  auto h = c.find("hash1", 1059);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->id, "h_1");
  EXPECT_FALSE(c.find("hash1", 1060).has_value());  // stale: read it again
  EXPECT_FALSE(c.find("hash1", 999).has_value());   // a clock that went back: read it again
  EXPECT_FALSE(c.find("hash2", 1000).has_value());
  EXPECT_EQ(c.size(), 1u);
}

TEST(HostCache, UpdatesKeepTheReadTimeAndNeverCreateEntries) {
  HostCache c(60);
  c.update("hash1", host("h_1", "applied"));  // unknown credential: nothing cached
  EXPECT_EQ(c.size(), 0u);
  c.put("hash1", host("h_1", "idle"), 1000);
  c.update("hash1", host("h_1", "applied"));
  EXPECT_EQ(c.find("hash1", 1030)->state, "applied");
  EXPECT_FALSE(c.find("hash1", 1060).has_value());  // an update does not extend the ttl
  c.put("hash1", host("h_1", "failed"), 1060);
  EXPECT_EQ(c.find("hash1", 1061)->state, "failed");
}

}  // namespace
}  // namespace noreboot::server
