// noreboot-feed's configuration (TOML), checked completely before a run starts.
//
//   server = "https://patches.example:8443"
//   read_token_file = "/etc/noreboot/feed/read.token"     # GET /v1/fleet, /v1/bundles
//   admin_token_file = "/etc/noreboot/feed/admin.token"   # publish, rollouts
//   cacert = ""                                            # optional PEM for a private CA
//   publisher_key = "/etc/noreboot/feed/publisher.key"     # signs bundles and fix records
//   data_dir = "/var/lib/noreboot-feed"
//   series = "6.1"                  # follows linux-source-SERIES
//   start_after = "6.1.192-1"       # first run only: process the versions after this one
//   approve = "auto"                # or "manual": publish, then wait for an operator
//   max_files = 50                  # a larger difference is a stable update (not one fix)
//   kernels = ["6.1.0-*-amd64"]     # which fleet kernels to build for (globs; default: all)
//   test = true                     # boot each kernel in QEMU before publishing
//   vm_timeout = 900                # seconds per kernel test
//   metrics_file = ""               # Prometheus textfile (default DATA/noreboot_feed.prom)
//   [[stages]]                      # the rollout stages (default 1 % / 10 min, 10 % / 1 h, 100 %)
//   percent = 1
//   soak_seconds = 600
//   failure_budget = 0
//   [tools]                         # optional: the programs the feed drives
//   debian_fix = "noreboot-debian-fix"; build = "noreboot-build"; admin = "noreboot-admin"
//   vm = "noreboot-vm"; kernel_fetch = "/usr/lib/noreboot/kernel-fetch"
//
// Every error names the key, what it must be, and the file. Unknown keys are errors (a typo
// must not silently fall back to a default).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::feed {

struct Stage {
  int percent = 100;
  std::int64_t soak_seconds = 0;
  int failure_budget = 0;
};

struct Tools {
  std::string debian_fix = "noreboot-debian-fix";
  std::string build = "noreboot-build";
  std::string admin = "noreboot-admin";
  std::string vm = "noreboot-vm";
  std::string kernel_fetch = "/usr/lib/noreboot/kernel-fetch";
};

struct FeedConfig {
  std::string server;
  std::filesystem::path read_token_file;
  std::filesystem::path admin_token_file;
  std::filesystem::path cacert;
  std::filesystem::path publisher_key;
  std::filesystem::path data_dir;
  std::string series = "6.1";
  std::string start_after;
  bool manual_approve = false;
  int max_files = 50;
  std::vector<std::string> kernels;   // globs; empty: every fleet kernel
  bool test = true;
  int vm_timeout = 900;
  std::filesystem::path metrics_file;
  std::vector<Stage> stages;
  Tools tools;
};

std::vector<Stage> default_stages();

// `origin` names the file in messages. Relative paths are taken relative to `base` (the
// config file's folder).
Result<FeedConfig> parse_config(std::string_view text, const std::string& origin,
                                const std::filesystem::path& base = {});
Result<FeedConfig> load_config(const std::filesystem::path& file);

}  // namespace noreboot::feed
