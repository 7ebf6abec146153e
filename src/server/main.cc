// noreboot-server: the patch server. Thin main: parse options (cli.h) and config, open the store,
// run the HTTP server until SIGTERM. Exit codes: 0 clean stop, 1 error, 2 usage.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/log.h"
#include "server/admin_tokens.h"
#include "server/api.h"
#include "server/bundle_check.h"
#include "server/cli.h"
#include "server/config.h"
#include "server/http_server.h"

namespace nr = noreboot;
namespace srv = noreboot::server;

namespace {

int run(int argc, char** argv) {
  auto command_line = srv::parse_server_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!command_line) {
    std::cerr << "noreboot-server: " << command_line.error().message() << "\n" << srv::kServerUsage;
    return 2;
  }
  if (command_line->help) {
    std::cout << srv::kServerUsage;
    return 0;
  }
  const bool recovery_token = command_line->admin_token;
  auto config = srv::config_for(*command_line);
  if (!config) {
    std::cerr << "noreboot-server: " << config.error().message() << "\n";
    return 2;
  }
  srv::ServerConfig& cfg = *config;
  if (auto st = srv::validate_config(cfg); !st) {
    std::cerr << "noreboot-server: " << st.error().message() << "\n";
    return 2;
  }
  nr::log::configure({nr::log::Level::info,
                      cfg.log_format == "json" ? nr::log::Format::json : nr::log::Format::text, "server"});

  std::error_code ec;
  std::filesystem::create_directories(cfg.data, ec);
  if (ec) {
    nr::log::error("data directory {}: {}", cfg.data, ec.message());
    return 1;
  }
  auto store = cfg.store == "postgres" ? srv::open_postgres_store(cfg.postgres, cfg.postgres_connections)
                                       : srv::open_sqlite_store(cfg.data);
  if (!store) {
    nr::log::error("store: {}", store.error().message());
    return 1;
  }
  auto clock = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  if (recovery_token) {
    auto token = srv::create_admin_token(**store, "recovery", "token.recovery", clock());
    if (!token) {
      nr::log::error("admin token: {}", token.error().message());
      return 1;
    }
    std::printf("%s\n", token->c_str());
    return 0;
  }
  auto verifier = srv::make_bundle_verifier(cfg.trust);
  if (!verifier) {
    nr::log::error("{}", verifier.error().message());
    return 1;
  }
  auto fix_verifier = srv::make_fix_record_verifier(cfg.trust);
  if (!fix_verifier) {
    nr::log::error("{}", fix_verifier.error().message());
    return 1;
  }
  if (cfg.trust.empty()) nr::log::warn("no publisher keys configured ('trust'): publishing will be refused");

  srv::ApiOptions opt;
  opt.checkin_interval = cfg.checkin_interval;
  opt.max_wait = cfg.max_wait;
  opt.snapshot_ttl = cfg.snapshot_ttl;
  opt.max_bundle_body = static_cast<std::size_t>(cfg.max_bundle_bytes);
  opt.secure_cookies = !cfg.tls_cert.empty();
  srv::Api api(**store, *verifier, *fix_verifier, opt, clock);
  auto token_path = (std::filesystem::path(cfg.data) / "admin.token").string();
  auto token = api.bootstrap_admin_token(
      [&](const std::string& secret) { return srv::write_secret_file(token_path, secret); });
  if (!token) {
    nr::log::error("admin token: {}", token.error().message());
    return 1;
  }
  if (!token->empty()) nr::log::info("created an admin token in {} (the store had no usable admin token)", token_path);

  auto [host, port] = *srv::split_listen(cfg.listen);
  srv::HttpServerOptions hopt;
  hopt.address = host;
  hopt.port = port;
  hopt.threads = cfg.threads;
  hopt.tls_cert = cfg.tls_cert;
  hopt.tls_key = cfg.tls_key;
  hopt.max_uploads = cfg.max_uploads;
  hopt.fd_reserve = cfg.fd_reserve;
  auto server = srv::HttpServer::create(api, hopt);
  if (!server) {
    nr::log::error("{}", server.error().message());
    return 1;
  }
  std::string url = std::string(cfg.tls_cert.empty() ? "http" : "https") + "://" +
                    (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                    std::to_string((*server)->port());
  nr::log::info("listening on {} (store: {})", url, cfg.store);
  std::printf("noreboot-server listening on %s\n", url.c_str());
  std::fflush(stdout);
  (*server)->run();
  nr::log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "noreboot-server: internal error: " << e.what() << "\n";
    return 1;
  }
}
