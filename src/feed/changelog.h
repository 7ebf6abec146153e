// Reading the fixes out of a Debian changelog.
//
// scripts/debian-fix prints the new version's changelog entries since the old version on
// stderr, indented by two spaces, between its own "debian-fix: ..." lines:
//
//   linux (6.1.192-3) bookworm-security; urgency=high
//
//     * nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362)
//
//    -- Salvatore Bonaccorso <carnil@debian.org>  Sat, 28 Nov 2026 10:00:00 +0100
//
// Approach: collect the items ("* ..." and the "- ..." sub-items of stable updates, with their
// continuation lines), and in each item every CVE id (CVE-YYYY-NNNN...). Each CVE becomes one
// fix whose description is its item's text without the CVE list; a CVE named by two items
// keeps the first. An update without any CVE is one fix, DEBIAN-<version>, described by its
// first item. Everything that is not an item (headers, trailers, the script's own lines) is
// ignored, so a changelog from another tool with the same layout reads the same.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace noreboot::feed {

struct ChangelogFix {
  std::string id;           // CVE-2026-99362 or DEBIAN-6.1.192-3
  std::string description;  // at most 200 characters, never empty
  bool operator==(const ChangelogFix&) const = default;
};

struct Changelog {
  std::vector<std::string> items;  // every item's text, in order, continuation lines joined
  std::vector<std::string> cves;   // every CVE id, in order of first mention, unique
};

Changelog parse_changelog(std::string_view text);

// The fixes a security update closes (see above); `version` names the fallback fix.
std::vector<ChangelogFix> fixes_of(const Changelog& log, std::string_view version);

}  // namespace noreboot::feed
