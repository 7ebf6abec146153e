// Draws the fix timeline (see dashboard_svg.h). Coordinates: time runs left to right from the
// first event to `now`, hosts bottom to top from 0 to the largest count; both lines are step
// functions (a count holds until the next report).
#include "server/dashboard_svg.h"

#include <algorithm>
#include <sstream>

#include "core/manifest.h"
#include "server/api_impl.h"

namespace noreboot::server {
namespace {

constexpr int kWidth = 760, kHeight = 260;
constexpr int kLeft = 48, kRight = 16, kTop = 36, kBottom = 40;

struct Scale {
  std::int64_t t0, t1;
  std::int64_t ymax;
  double x(std::int64_t t) const {
    double span = static_cast<double>(std::max<std::int64_t>(1, t1 - t0));
    return kLeft + (kWidth - kLeft - kRight) * static_cast<double>(t - t0) / span;
  }
  double y(std::int64_t n) const {
    return kTop + (kHeight - kTop - kBottom) * (1.0 - static_cast<double>(n) / static_cast<double>(std::max<std::int64_t>(1, ymax)));
  }
};

// "x,y x,y …" of a cumulative step line over sorted times.
std::string steps(const std::vector<std::int64_t>& times, const Scale& s) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  std::int64_t n = 0;
  o << s.x(s.t0) << ',' << s.y(0);
  for (std::int64_t t : times) {
    o << ' ' << s.x(t) << ',' << s.y(n);
    ++n;
    o << ' ' << s.x(t) << ',' << s.y(n);
  }
  o << ' ' << s.x(s.t1) << ',' << s.y(n);
  return o.str();
}

const char* mark_colour(const std::string& kind) {
  if (kind == "halt") return "#b00";
  if (kind == "resume") return "#05a";
  if (kind == "complete") return "#070";
  return "#777";
}

}  // namespace

std::string timeline_svg(TimelineData d) {
  std::sort(d.patched.begin(), d.patched.end());
  std::sort(d.failed.begin(), d.failed.end());
  std::sort(d.marks.begin(), d.marks.end(), [](const TimelineMark& a, const TimelineMark& b) { return a.time < b.time; });
  std::int64_t t0 = d.now, t1 = d.now;
  auto widen = [&](std::int64_t t) { t0 = std::min(t0, t); t1 = std::max(t1, t); };
  for (auto t : d.patched) widen(t);
  for (auto t : d.failed) widen(t);
  for (const auto& m : d.marks) widen(m.time);
  Scale s{t0, t1 == t0 ? t0 + 60 : t1,
          std::max<std::int64_t>({1, static_cast<std::int64_t>(d.patched.size()), static_cast<std::int64_t>(d.failed.size())})};

  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight << "\" role=\"img\" aria-labelledby=\"timeline-title\">"
    << "<title id=\"timeline-title\">Hosts patched (" << d.patched.size() << ") and failed (" << d.failed.size()
    << ") over time</title>"
    << "<rect x=\"0\" y=\"0\" width=\"" << kWidth << "\" height=\"" << kHeight << "\" fill=\"#fff\"/>";
  // Axes: hosts on the left (0 and the maximum), time below (first and last).
  o << "<line x1=\"" << kLeft << "\" y1=\"" << s.y(0) << "\" x2=\"" << kWidth - kRight << "\" y2=\"" << s.y(0)
    << "\" stroke=\"#444\"/><line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\"" << s.y(0)
    << "\" stroke=\"#444\"/>"
    << "<text x=\"" << kLeft - 6 << "\" y=\"" << s.y(0) + 4 << "\" text-anchor=\"end\" font-size=\"11\">0</text>"
    << "<text x=\"" << kLeft - 6 << "\" y=\"" << s.y(s.ymax) + 4 << "\" text-anchor=\"end\" font-size=\"11\">" << s.ymax
    << "</text>"
    << "<text x=\"" << kLeft << "\" y=\"" << kHeight - 8 << "\" font-size=\"11\">" << html_escape(readable_utc(s.t0))
    << "</text><text x=\"" << kWidth - kRight << "\" y=\"" << kHeight - 8 << "\" text-anchor=\"end\" font-size=\"11\">"
    << html_escape(readable_utc(s.t1)) << "</text>";
  // Rollout events: a vertical line each, labelled at the top.
  double last_label_x = -1000;
  int row = 0;  // labels of marks close together go on alternate rows
  for (const auto& m : d.marks) {
    double x = s.x(m.time);
    row = (x - last_label_x < 70) ? 1 - row : 0;
    last_label_x = x;
    o << "<g class=\"mark\" data-kind=\"" << html_escape(m.kind) << "\"><title>" << html_escape(readable_utc(m.time))
      << ": " << html_escape(m.label) << "</title><line x1=\"" << x << "\" y1=\"" << kTop - 10 << "\" x2=\"" << x
      << "\" y2=\"" << s.y(0) << "\" stroke=\"" << mark_colour(m.kind) << "\" stroke-dasharray=\"4 3\""
      << (m.kind == "halt" ? " stroke-width=\"2\"" : "") << "/>";
    // Labels near the right edge end at their line instead of starting there (not clipped).
    bool right = x > kWidth - kRight - 90;
    o << "<text x=\"" << (right ? x - 3 : x + 3) << "\" y=\"" << kTop - 14 + 12 * row << "\"" << (right ? " text-anchor=\"end\"" : "")
      << " font-size=\"11\" fill=\"" << mark_colour(m.kind) << "\">" << html_escape(m.label) << "</text></g>";
  }
  o << "<polyline id=\"timeline-patched\" fill=\"none\" stroke=\"#3a7\" stroke-width=\"2\" points=\""
    << steps(d.patched, s) << "\"><title>patched: " << d.patched.size() << "</title></polyline>"
    << "<polyline id=\"timeline-failed\" fill=\"none\" stroke=\"#b00\" stroke-width=\"2\" points=\""
    << steps(d.failed, s) << "\"><title>failed: " << d.failed.size() << "</title></polyline>";
  // Legend.
  o << "<text x=\"" << kLeft + 8 << "\" y=\"" << kTop + 12 << "\" font-size=\"12\" fill=\"#3a7\">patched "
    << d.patched.size() << "</text><text x=\"" << kLeft + 108 << "\" y=\"" << kTop + 12
    << "\" font-size=\"12\" fill=\"#b00\">failed " << d.failed.size() << "</text></svg>";
  return o.str();
}

}  // namespace noreboot::server
