// Offers the agent refuses before it fetches anything, and names made safe for sd_notify.
#include "agent/offer_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace noreboot::agent {
namespace {

api::Offer offer(const std::string& url) {
  api::Offer o;
  o.sha256 = std::string(64, 'a');
  o.bundle_id = o.sha256;
  o.url = url;
  o.size = 4096;
  o.sequence = 1;
  o.patch_name = "nr_fix";
  return o;
}

TEST(OfferCheck, OnlyThisServersBundlePathForTheOfferedHash) {
  EXPECT_TRUE(check_offer(offer("/v1/bundles/" + std::string(64, 'a'))).ok());
  for (const std::string& bad : std::vector<std::string>{"@evil.example/v1/bundles/" + std::string(64, 'a'),
                                "//evil.example/v1/bundles/" + std::string(64, 'a'),
                                "http://evil.example/v1/bundles/" + std::string(64, 'a'),
                                "/v1/bundles/" + std::string(64, 'b'),  // another bundle than offered
                                "/v1/bundles/" + std::string(64, 'a') + "?x=1", "/v1/bundles/../checkin",
                                "", "/v1/bundles/" + std::string(64, 'A')}) {
    auto s = check_offer(offer(bad));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code(), Errc::refused);
    EXPECT_NE(s.error().message().find("url"), std::string::npos) << s.error().message();
  }
  auto zero = offer("/v1/bundles/" + std::string(64, 'a'));
  zero.size = 0;
  EXPECT_FALSE(check_offer(zero).ok());
  zero.size = kMaxOfferedBundleBytes + 1;
  EXPECT_FALSE(check_offer(zero).ok());
}

TEST(OfferCheck, PrintableNameCannotAddNotifyAssignments) {
  EXPECT_EQ(printable_name("nr_fix-2.1"), "nr_fix-2.1");
  std::string n = printable_name("nr\nREADY=1\nWATCHDOG=trigger");
  EXPECT_EQ(n.find('\n'), std::string::npos);
  EXPECT_EQ(n.find('='), std::string::npos);
  EXPECT_EQ(n, "nr?READY?1?WATCHDOG?trigger");
  EXPECT_EQ(printable_name(std::string(200, 'x')).size(), 64u);
}

}  // namespace
}  // namespace noreboot::agent
