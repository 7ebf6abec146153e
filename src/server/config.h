// noreboot-server configuration: one TOML file (docs/server.md), overridable on the command
// line. Parsed once into ServerConfig and passed down.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::server {

struct ServerConfig {
  std::string listen = "127.0.0.1:8443";  // host:port (IPv6: [::1]:8443)
  std::string data;                       // directory for the SQLite store and admin.token
  std::string store = "sqlite";           // "sqlite" or "postgres"
  std::string postgres;                   // libpq connection string when store = "postgres"
  int postgres_connections = 4;
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> trust;         // publisher public keys (files or folders)
  int threads = 2;
  std::int64_t checkin_interval = 60;
  std::int64_t max_wait = 300;
  std::int64_t snapshot_ttl = 2;          // seconds between re-reads of rollouts/bundles/pins
  std::int64_t max_bundle_bytes = 64LL << 20;
  int max_uploads = 4;                    // bundle/fix uploads read at once; more get 503
  int fd_reserve = 32;                    // descriptors kept free below the fd limit (not for connections)
  std::string log_format = "json";        // "json" or "text"
};

Result<ServerConfig> load_config_file(const std::string& path, ServerConfig base = {});
// Splits "127.0.0.1:8443" / "[::1]:8443".
Result<std::pair<std::string, std::uint16_t>> split_listen(const std::string& listen);
Status validate_config(const ServerConfig& c);

}  // namespace noreboot::server
