#include "server/config.h"

#include <toml++/toml.h>

namespace noreboot::server {

Result<ServerConfig> load_config_file(const std::string& path, ServerConfig c) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error(Errc::invalid_input, path + ":" + std::to_string(e.source().begin.line) + ": " +
                                          std::string(e.description()));
  }
  for (const auto& [key, value] : t) {
    std::string k(key.str());
    auto str = [&](std::string& out) -> Status {
      if (!value.is_string()) return Error(Errc::invalid_input, path + ": '" + k + "' must be a string");
      out = *value.value<std::string>();
      return ok_status();
    };
    auto num = [&](auto& out) -> Status {
      if (!value.is_integer()) return Error(Errc::invalid_input, path + ": '" + k + "' must be an integer");
      out = static_cast<std::remove_reference_t<decltype(out)>>(*value.value<std::int64_t>());
      return ok_status();
    };
    if (k == "listen") NR_TRY_STATUS(str(c.listen));
    else if (k == "data") NR_TRY_STATUS(str(c.data));
    else if (k == "store") NR_TRY_STATUS(str(c.store));
    else if (k == "postgres") NR_TRY_STATUS(str(c.postgres));
    else if (k == "postgres_connections") NR_TRY_STATUS(num(c.postgres_connections));
    else if (k == "tls_cert") NR_TRY_STATUS(str(c.tls_cert));
    else if (k == "tls_key") NR_TRY_STATUS(str(c.tls_key));
    else if (k == "threads") NR_TRY_STATUS(num(c.threads));
    else if (k == "checkin_interval") NR_TRY_STATUS(num(c.checkin_interval));
    else if (k == "max_wait") NR_TRY_STATUS(num(c.max_wait));
    else if (k == "snapshot_ttl") NR_TRY_STATUS(num(c.snapshot_ttl));
    else if (k == "max_bundle_bytes") NR_TRY_STATUS(num(c.max_bundle_bytes));
    else if (k == "max_uploads") NR_TRY_STATUS(num(c.max_uploads));
    else if (k == "fd_reserve") NR_TRY_STATUS(num(c.fd_reserve));
    else if (k == "log_format") NR_TRY_STATUS(str(c.log_format));
    else if (k == "trust") {
      const toml::array* a = value.as_array();
      if (!a) return Error(Errc::invalid_input, path + ": 'trust' must be an array of paths");
      c.trust.clear();
      for (const auto& e : *a) {
        if (!e.is_string()) return Error(Errc::invalid_input, path + ": 'trust' must be an array of paths");
        c.trust.push_back(*e.value<std::string>());
      }
    } else {
      return Error(Errc::invalid_input, path + ": unknown setting '" + k + "' (see docs/server.md)");
    }
  }
  return c;
}

Result<std::pair<std::string, std::uint16_t>> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return Error(Errc::invalid_argument, "listen '" + listen + "': expected HOST:PORT, e.g. 127.0.0.1:8443");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    return Error(Errc::invalid_argument, "listen '" + listen + "': port must be 0..65535");
  return std::make_pair(host, static_cast<std::uint16_t>(std::stoi(port)));
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
