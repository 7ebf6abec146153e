// Fix ids and descriptions from debian-fix's changelog output.
#include <gtest/gtest.h>

#include "feed/changelog.h"

namespace noreboot::feed {
namespace {

const char* kSecurityUpdate =
    "debian-fix: downloading linux-source-6.1=6.1.192-3\n"
    "debian-fix: 6.1.192-2 -> 6.1.192-3: 1 file(s): fs/nfsd/nfs4state.c \n"
    "  linux (6.1.192-3) bookworm-security; urgency=high\n"
    "  \n"
    "    * nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362)\n"
    "  \n"
    "   -- Salvatore Bonaccorso <carnil@debian.org>  Sat, 28 Nov 2026 10:00:00 +0100\n";

TEST(Changelog, OneCveOneFix) {
  auto log = parse_changelog(kSecurityUpdate);
  ASSERT_EQ(log.items.size(), 1u);
  EXPECT_EQ(log.cves, std::vector<std::string>{"CVE-2026-99362"});
  auto fixes = fixes_of(log, "6.1.192-3");
  ASSERT_EQ(fixes.size(), 1u);
  EXPECT_EQ(fixes[0].id, "CVE-2026-99362");
  EXPECT_EQ(fixes[0].description, "nfsd: preflight SEQUENCE replies before accepting a slot");
}

TEST(Changelog, ContinuationLinesAndSeveralCves) {
  auto log = parse_changelog(
      "linux (6.1.192-1) bookworm-security; urgency=high\n\n"
      "  * New upstream stable update:\n"
      "    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.1.191\n"
      "    - ext4: fix a race in the block allocator\n"
      "      (CVE-2026-1001, CVE-2026-1002)\n"
      "    - net: sched: plug a leak (CVE-2026-1003)\n"
      "  * [x86] a fix named twice (CVE-2026-1003)\n\n"
      " -- Ben Hutchings <benh@debian.org>  Mon, 02 Nov 2026 10:00:00 +0100\n");
  EXPECT_EQ(log.cves, (std::vector<std::string>{"CVE-2026-1001", "CVE-2026-1002", "CVE-2026-1003"}));
  auto fixes = fixes_of(log, "6.1.192-1");
  ASSERT_EQ(fixes.size(), 3u);
  EXPECT_EQ(fixes[0].description, "ext4: fix a race in the block allocator");
  EXPECT_EQ(fixes[1].description, "ext4: fix a race in the block allocator");
  EXPECT_EQ(fixes[2].description, "net: sched: plug a leak");  // the first item naming it
}

TEST(Changelog, NoCveGivesADebianFixId) {
  auto log = parse_changelog("  * ext4: fix NULL folio dereference in mballoc\n");
  auto fixes = fixes_of(log, "6.1.192-2");
  ASSERT_EQ(fixes.size(), 1u);
  EXPECT_EQ(fixes[0].id, "DEBIAN-6.1.192-2");
  EXPECT_EQ(fixes[0].description, "ext4: fix NULL folio dereference in mballoc");
}

TEST(Changelog, GarbageAndTruncatedText) {
  EXPECT_TRUE(parse_changelog("").items.empty());
  auto fixes = fixes_of(parse_changelog("\x01\x02 not a changelog CVE-20-1 CVE-2026-1\n"), "6.1.1-1");
  ASSERT_EQ(fixes.size(), 1u);
  EXPECT_EQ(fixes[0].id, "DEBIAN-6.1.1-1");  // malformed CVE ids are not ids
  EXPECT_EQ(fixes[0].description, "Debian linux 6.1.1-1");
  std::string long_item = "  * " + std::string(500, 'x') + " (CVE-2026-12345)\n";
  auto f = fixes_of(parse_changelog(long_item), "6.1.1-1");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_LE(f[0].description.size(), 200u);
}

}  // namespace
}  // namespace noreboot::feed
