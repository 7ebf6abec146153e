// route_labels: known paths become their template, everything else the one label "other".
#include "server/route_labels.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace noreboot::server {
namespace {

std::vector<std::string> seg(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path.substr(1)) {
    if (c == '/') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty() || path.size() > 1) out.push_back(cur);
  return out;
}

TEST(RouteLabels, KnownRoutesGetTheirTemplate) {
  EXPECT_EQ(route_label(seg("/")), "/");
  EXPECT_EQ(route_label(seg("/healthz")), "/healthz");
  EXPECT_EQ(route_label(seg("/v1/checkin")), "/v1/checkin");
  EXPECT_EQ(route_label(seg("/v1/bundles/" + std::string(64, 'a'))), "/v1/bundles/{sha256}");
  EXPECT_EQ(route_label(seg("/v1/hosts/h_0123")), "/v1/hosts/{id}");
  EXPECT_EQ(route_label(seg("/v1/rollouts/r_01/promote")), "/v1/rollouts/{id}/promote");
  EXPECT_EQ(route_label(seg("/v1/tokens/admin/t_1")), "/v1/tokens/admin/{id}");
  EXPECT_EQ(route_label(seg("/hosts/h_1")), "/hosts/{id}");
  EXPECT_EQ(route_label(seg("/rollouts/r_1/halt")), "/rollouts/{id}/halt");
  EXPECT_EQ(route_label(seg("/rollouts/r_1/resume")), "/rollouts/{id}/resume");
}

TEST(RouteLabels, EverythingElseIsOther) {
  for (const char* p : {"/junk", "/v1/nothing", "/v1/hosts/h_1/extra", "/v1/rollouts/r_1/explode", "/v1/hosts/",
                        "/fixes/x/rollouts/r/delete", "/wp-login.php", "/v1/tokens/other/t_1"})
    EXPECT_EQ(route_label(seg(p)), "other") << p;
}

TEST(RouteLabels, TheLabelSetIsBoundedByTheTable) {
  // Alternatives keep the word sent, so count them: the labels are at most this many.
  std::size_t labels = 0;
  for (const auto& t : known_route_templates()) labels += 1 + static_cast<std::size_t>(std::count(t.begin(), t.end(), '|'));
  EXPECT_LT(labels, 64u);
  EXPECT_EQ(route_label(seg("/v1/rollouts/r_1/promote|halt")), "other");
}

}  // namespace
}  // namespace noreboot::server
