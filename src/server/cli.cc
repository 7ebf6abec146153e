// noreboot-server's command line: see cli.h.
#include "server/cli.h"

#include <algorithm>

#include "core/command_line.h"

namespace noreboot::server {

const char* const kServerUsage =
    "usage: noreboot-server [--config FILE] [--listen HOST:PORT] [--data DIR]\n"
    "                       [--store sqlite|postgres] [--postgres CONNINFO] [--trust PUB]...\n"
    "                       [--tls-cert PEM --tls-key PEM] [--threads N] [--log-format json|text]\n"
    "Runs the noreboot patch server (docs/server.md, API: docs/api.md). Command-line options\n"
    "override the config file. On first start it writes an admin token to DATA/admin.token.\n"
    "\n"
    "       noreboot-server admin-token [--config FILE] [--data DIR] [--postgres CONNINFO]\n"
    "Recovery: creates a new admin-role token straight in the store and prints it (for an\n"
    "operator with a shell on the server, when no admin token is left; docs/operator-guide.md).\n";

Result<ServerCommandLine> parse_server_command_line(const std::vector<std::string>& args) {
  ServerCommandLine c;
  cli::App app;
  app.add_option("--config", c.config_path);
  app.add_option("--listen", c.listen);
  app.add_option("--data", c.data);
  app.add_option("--store", c.store);
  app.add_option("--postgres", c.postgres);
  app.add_option("--tls-cert", c.tls_cert);
  app.add_option("--tls-key", c.tls_key);
  app.add_number("--threads", c.threads);
  app.add_option("--log-format", c.log_format);
  app.add_list("--trust", c.trust);
  // The recovery command takes the same options, before or after its name.
  auto* admin_token = app.add_subcommand("admin-token")->fallthrough();
  NR_TRY(auto parsed, cli::parse_command_line(app, args));
  c.help = parsed == cli::CommandLine::help;
  c.admin_token = admin_token->parsed();
  return c;
}

Result<ServerConfig> config_for(const ServerCommandLine& c) {
  ServerConfig cfg;
  if (!c.config_path.empty()) {
    NR_TRY(cfg, load_config_file(c.config_path, cfg));
  }
  if (c.listen) cfg.listen = *c.listen;
  if (c.data) cfg.data = *c.data;
  if (c.postgres) {
    cfg.postgres = *c.postgres;
    cfg.store = "postgres";
  }
  if (c.store) cfg.store = *c.store;  // an explicit --store over the one --postgres implies
  if (c.tls_cert) cfg.tls_cert = *c.tls_cert;
  if (c.tls_key) cfg.tls_key = *c.tls_key;
  if (c.threads) cfg.threads = static_cast<int>(std::min<std::uint64_t>(*c.threads, 1000));  // validate_config: 1..64
  if (c.log_format) cfg.log_format = *c.log_format;
  if (!c.trust.empty()) cfg.trust = c.trust;
  return cfg;
}

}  // namespace noreboot::server
