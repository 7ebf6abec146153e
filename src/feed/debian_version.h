// Debian version order (deb-version(7)), the order `dpkg --compare-versions` uses.
//
// The feed decides what is new by comparing the versions Debian's archive serves with the
// newest one it has processed, so it must order them exactly as dpkg does: 6.1.192-3 after
// 6.1.192-2, 6.1.192-1 after 6.1.190-1, "1.0~rc1" before "1.0", an epoch ("1:") above all.
// Approach: the algorithm of deb-version(7), implemented here rather than calling dpkg once per
// pair: split [epoch:]upstream[-revision]; compare epochs as numbers, then upstream and
// revision part by part: a run of non-digits (letters sort before non-letters, '~' before
// everything, even the end of the string), then a run of digits as a number.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace noreboot::feed {

// True when `v` looks like a Debian version: a digit first (after an optional epoch), then
// only A-Z a-z 0-9 . + ~ - (and ':' for the epoch). Also the set scripts/debian-fix accepts.
bool valid_debian_version(std::string_view v);

// <0, 0, >0 like strcmp, in dpkg's order.
int compare_debian_versions(std::string_view a, std::string_view b);

// Sorted oldest first, duplicates removed.
std::vector<std::string> sort_debian_versions(std::vector<std::string> versions);

// The kernel series of a linux-source version: "6.1.192-3" -> "6.1".
std::string kernel_series(std::string_view version);

}  // namespace noreboot::feed
