// noreboot-server's command line: options that override the config file, and the recovery
// command `admin-token`. Parsed by CLI11 (core/command_line.h); main.cc runs the result.
//
//   noreboot-server [--config FILE] [--listen HOST:PORT] [--data DIR] [--store sqlite|postgres]
//                   [--postgres CONNINFO] [--trust PUB]... [--tls-cert PEM --tls-key PEM]
//                   [--threads N] [--log-format json|text]
//   noreboot-server admin-token [the same options]
//
// The config file is read first and every option given on the command line replaces its value;
// --trust replaces the file's whole trust list (given several times, it builds a new list), and
// --postgres also selects the PostgreSQL store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "server/config.h"

namespace noreboot::server {

extern const char* const kServerUsage;

struct ServerCommandLine {
  bool help = false;
  bool admin_token = false;  // the recovery command
  std::string config_path;   // empty: built-in defaults only
  std::optional<std::string> listen, data, store, postgres, tls_cert, tls_key, log_format;
  std::optional<std::uint64_t> threads;
  std::vector<std::string> trust;  // empty: the config file's list stays
};

// The words after the program name; an invalid_argument Error names the bad argument.
Result<ServerCommandLine> parse_server_command_line(const std::vector<std::string>& args);

// The configuration the server runs with: the config file (if any) with the options applied.
// Not validated here (validate_config does that).
Result<ServerConfig> config_for(const ServerCommandLine& c);

}  // namespace noreboot::server
