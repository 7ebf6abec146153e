// The agent's configuration, /etc/noreboot/agent.toml, parsed once into AgentConfig.
//
//   server = "https://patches.example.net:8443"   # where to check in (optional for `apply`)
//   trusted_keys = ["/etc/noreboot/keys/publisher.pub"]
//   state_dir = "/var/lib/noreboot"
//   ca_file = "/etc/noreboot/ca.pem"              # optional: server CA (default: system CAs)
//
//   [checkin]
//   interval_seconds = 300    # between check-ins
//   jitter_seconds = 30       # random 0..jitter added, so a fleet does not arrive at once
//   long_poll_seconds = 55    # how long the server may hold a check-in open
//
//   [timeouts]
//   transition_seconds = 60   # wait for the transition, then signal the blocking tasks
//   signal_seconds = 15       # wait after the signal, then reverse
//   reverse_seconds = 60      # wait for the reversal to finish
//   watch_seconds = 5         # watch the kernel log after a load
//   settle_seconds = 120      # a patch live this long is "stable" for the crash-loop guard
//   download_seconds = 300
//
//   [[maintenance_window]]    # the daemon applies only inside a window (none: any time)
//   days = ["sat", "sun"]     # optional; default every day
//   start = "02:00"           # UTC, HH:MM
//   end = "04:30"             # may be earlier than start: the window crosses midnight
//
// Unknown keys are an error (a typo must not silently fall back to a default).
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::agent {

struct MaintenanceWindow {
  unsigned days_mask = 0x7f;  // bit 0 = Sunday .. bit 6 = Saturday
  int start_minute = 0;       // minutes after 00:00 UTC
  int end_minute = 0;
};

struct AgentConfig {
  std::string server;
  std::vector<std::filesystem::path> trusted_keys;
  std::filesystem::path state_dir = "/var/lib/noreboot";
  std::filesystem::path ca_file;

  int interval_seconds = 300;
  int jitter_seconds = 30;
  int long_poll_seconds = 55;

  double transition_seconds = 60;
  double signal_seconds = 15;
  double reverse_seconds = 60;
  double watch_seconds = 5;
  int64_t settle_seconds = 120;
  int download_seconds = 300;

  std::vector<MaintenanceWindow> windows;
};

// Parses TOML text; `origin` names the file in errors.
Result<AgentConfig> parse_config(std::string_view text, const std::string& origin);
// Reads and parses a file. A missing file gives the defaults when `must_exist` is false.
Result<AgentConfig> load_config(const std::filesystem::path& path, bool must_exist);

// True when no window is configured or `now` (UTC) falls inside one.
bool in_maintenance_window(const std::vector<MaintenanceWindow>& windows, std::time_t now);

}  // namespace noreboot::agent
