// Logging: one line per event on stderr, human-readable by default, JSON lines for daemons.
//
//   log::info("loaded patch {}", name);   -- std::format is not in gcc-12, so we use a tiny
//   formatter: "{}" placeholders are replaced by the arguments in order (via operator<<).
//
// The logger is configured once in main (level, format) through a LogConfig passed to
// log::configure; there is no other global state. Tests can capture output with log::set_sink.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace noreboot::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

struct LogConfig {
  Level level = Level::info;
  Format format = Format::text;
  std::string component;  // e.g. "agent", "server": added to every JSON line
};

void configure(const LogConfig& config);
// Replaces where lines go (default: stderr). Passing nullptr restores stderr.
void set_sink(std::function<void(std::string_view line)> sink);
bool enabled(Level level);
void write(Level level, std::string_view message);

namespace detail {
inline void format_into(std::ostringstream& out, std::string_view fmt) { out << fmt; }
template <typename First, typename... Rest>
void format_into(std::ostringstream& out, std::string_view fmt, const First& first,
                 const Rest&... rest) {
  auto pos = fmt.find("{}");
  if (pos == std::string_view::npos) { out << fmt; return; }
  out << fmt.substr(0, pos) << first;
  format_into(out, fmt.substr(pos + 2), rest...);
}
}  // namespace detail

// format("a {} c", "b") -> "a b c"
template <typename... Args>
std::string format(std::string_view fmt, const Args&... args) {
  std::ostringstream out;
  detail::format_into(out, fmt, args...);
  return out.str();
}

template <typename... Args> void debug(std::string_view fmt, const Args&... a) {
  if (enabled(Level::debug)) write(Level::debug, format(fmt, a...));
}
template <typename... Args> void info(std::string_view fmt, const Args&... a) {
  if (enabled(Level::info)) write(Level::info, format(fmt, a...));
}
template <typename... Args> void warn(std::string_view fmt, const Args&... a) {
  if (enabled(Level::warn)) write(Level::warn, format(fmt, a...));
}
template <typename... Args> void error(std::string_view fmt, const Args&... a) {
  if (enabled(Level::error)) write(Level::error, format(fmt, a...));
}

}  // namespace noreboot::log
