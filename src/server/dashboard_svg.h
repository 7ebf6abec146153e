// The fix page's timeline, drawn as inline SVG by the server.
//
// Problem: an operator watching a fix roll out wants to see at a glance how many hosts were
// patched and how many failed over time, and where the stages changed and the rollout halted,
// without the dashboard loading any script (the CSP allows none). Approach: the server draws
// the chart itself: two cumulative step lines (patched, failed) over time from the hosts'
// reports, and a vertical mark per rollout event from the audit log, as plain SVG elements
// with <title>s (tooltips, and text for screen readers and tests). Trade-off: a static
// picture, redrawn on each page load (the page refreshes itself like the others).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace noreboot::server {

struct TimelineMark {
  std::int64_t time = 0;
  std::string kind;   // "create", "advance", "promote", "halt", "resume", "complete", ...
  std::string label;  // shown next to the mark
};

struct TimelineData {
  std::vector<std::int64_t> patched;  // times at which a host reported the fix applied
  std::vector<std::int64_t> failed;   // times at which a host reported a failure
  std::vector<TimelineMark> marks;
  std::int64_t now = 0;               // the right edge (at least the last event)
};

// An <svg id="timeline"> element; every text in it is escaped.
std::string timeline_svg(TimelineData data);

}  // namespace noreboot::server
