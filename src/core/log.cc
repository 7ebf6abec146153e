#include "core/log.h"

#include "core/bytes.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace noreboot::log {
namespace {

// The logger's configuration lives here, set once by main through configure(). A mutex keeps
// lines whole when several threads log.
struct LoggerState {
  std::mutex mu;
  LogConfig config;
  std::function<void(std::string_view)> sink;
};

LoggerState& state() {
  static LoggerState s;
  return s;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string utc_timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler thinks tm's fields may hold
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ms));
  return buf;
}

}  // namespace

void configure(const LogConfig& config) {
  std::lock_guard lock(state().mu);
  state().config = config;
}

void set_sink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(state().mu);
  state().sink = std::move(sink);
}

bool enabled(Level level) {
  std::lock_guard lock(state().mu);
  return static_cast<int>(level) >= static_cast<int>(state().config.level);
}

void write(Level level, std::string_view message) {
  std::lock_guard lock(state().mu);
  std::string line;
  if (state().config.format == Format::json) {
    nlohmann::json j = {{"time", utc_timestamp()}, {"level", level_name(level)}, {"msg", message}};
    if (!state().config.component.empty()) j["component"] = state().config.component;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = std::string(level == Level::info ? "" : std::string(level_name(level)) + ": ");
    // One message, one line: control characters (a hostname with a newline, say) are escaped,
    // so no text from a client can forge a line of its own.
    for (char c : message) {
      auto u = static_cast<unsigned char>(c);
      if (c == '\n') line += "\\n";
      else if (c == '\r') line += "\\r";
      else if ((u < 0x20 && c != '\t') || u == 0x7f) line += "\\x" + to_hex(ByteView(&u, 1));
      else line.push_back(c);
    }
  }
  if (state().sink) {
    state().sink(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace noreboot::log
