#include "server/config.h"

#include <limits>

#include "core/numbers.h"
#include "core/toml_config.h"

namespace noreboot::server {

// Types here; ranges in validate_config, because command-line options override the file.
Result<ServerConfig> load_config_file(const std::string& path, ServerConfig c) {
  NR_TRY(auto doc, toml_config::Document::parse_file(path));
  auto t = doc.root();
  NR_TRY_STATUS(t.only_keys({"listen", "data", "store", "postgres", "postgres_connections", "tls_cert", "tls_key",
                             "trust", "threads", "checkin_interval", "max_wait", "snapshot_ttl", "max_bundle_bytes",
                             "max_uploads", "fd_reserve", "log_format"}));
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min(), kMax = std::numeric_limits<std::int64_t>::max();
  for (auto [key, field] : std::initializer_list<std::pair<const char*, std::string*>>{{"listen", &c.listen}, {"data", &c.data}, {"store", &c.store},
                            {"postgres", &c.postgres}, {"tls_cert", &c.tls_cert}, {"tls_key", &c.tls_key},
                            {"log_format", &c.log_format}})
    NR_TRY_STATUS(t.get(key, *field));
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int*>>{{"postgres_connections", &c.postgres_connections}, {"threads", &c.threads},
                            {"max_uploads", &c.max_uploads}, {"fd_reserve", &c.fd_reserve}})
    NR_TRY_STATUS(t.get_integer(key, *field, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  for (auto [key, field] : std::initializer_list<std::pair<const char*, std::int64_t*>>{{"checkin_interval", &c.checkin_interval}, {"max_wait", &c.max_wait},
                            {"snapshot_ttl", &c.snapshot_ttl}, {"max_bundle_bytes", &c.max_bundle_bytes}})
    NR_TRY_STATUS(t.get_integer(key, *field, kMin, kMax));
  NR_TRY_STATUS(t.get("trust", c.trust));
  return c;
}

Result<std::pair<std::string, std::uint16_t>> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return Error(Errc::invalid_argument, "listen '" + listen + "': expected HOST:PORT, e.g. 127.0.0.1:8443");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto number = parse_decimal(port, 5);
  if (!number || *number > 65535) return Error(Errc::invalid_argument, "listen '" + listen + "': port must be 0..65535");
  return std::make_pair(host, static_cast<std::uint16_t>(*number));
}

Status validate_config(const ServerConfig& c) {
  NR_TRY_STATUS(split_listen(c.listen));
  if (c.data.empty()) return Error(Errc::invalid_argument, "no data directory: give --data DIR or 'data' in the config");
  if (c.store != "sqlite" && c.store != "postgres")
    return Error(Errc::invalid_argument, "store '" + c.store + "': must be \"sqlite\" or \"postgres\"");
  if (c.store == "postgres" && c.postgres.empty())
    return Error(Errc::invalid_argument, "store = \"postgres\" needs 'postgres' (a libpq connection string)");
  if (c.threads < 1 || c.threads > 64) return Error(Errc::invalid_argument, "threads: must be 1..64");
  if (c.max_wait < 0 || c.max_wait > 3600) return Error(Errc::invalid_argument, "max_wait: must be 0..3600");
  if (c.checkin_interval < 1) return Error(Errc::invalid_argument, "checkin_interval: must be >= 1");
  if (c.snapshot_ttl < 1 || c.snapshot_ttl > 3600)
    return Error(Errc::invalid_argument, "snapshot_ttl: must be 1..3600 seconds");
  if (c.max_bundle_bytes < 1024) return Error(Errc::invalid_argument, "max_bundle_bytes: must be >= 1024");
  if (c.max_uploads < 1 || c.max_uploads > 1024) return Error(Errc::invalid_argument, "max_uploads: must be 1..1024");
  if (c.fd_reserve < 8 || c.fd_reserve > 65536) return Error(Errc::invalid_argument, "fd_reserve: must be 8..65536");
  if (c.log_format != "json" && c.log_format != "text")
    return Error(Errc::invalid_argument, "log_format: must be \"json\" or \"text\"");
  return ok_status();
}

}  // namespace noreboot::server
