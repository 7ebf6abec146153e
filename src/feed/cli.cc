// noreboot-feed's command line: see cli.h.
#include "feed/cli.h"

#include <ostream>

#include "core/command_line.h"

#include "feed/config.h"
#include "feed/run.h"

namespace noreboot::feed {
namespace {

const char* const kUsage =
    "usage:\n"
    "  noreboot-feed run --config FILE        one run: what is new in Debian's archive, derived, built,\n"
    "                                         tested in QEMU, published and rolled out (docs/feed.md)\n"
    "  noreboot-feed status --config FILE [--json]   what the feed has processed and how far each version got\n"
    "default config: /etc/noreboot/feed.toml\n"
    "exit codes: 0 done or nothing new, 1 a step failed (the next run resumes it), 2 usage or configuration,\n"
    "3 another run is in progress\n";

}  // namespace

int feed_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  cli::App app{"noreboot-feed"};
  std::string config_file = "/etc/noreboot/feed.toml";
  bool as_json = false;
  auto* run = app.add_subcommand("run");
  run->add_option("--config", config_file);
  auto* status = app.add_subcommand("status");
  status->add_option("--config", config_file);
  status->add_flag("--json", as_json);
  auto parsed = cli::parse_command_line(app, args);
  if (!parsed) {
    const std::string command = app.chosen_subcommand();
    err << "noreboot-feed" << (command.empty() ? "" : " " + command) << ": "
        << parsed.error().message() << "\n" << kUsage;
    return 2;
  }
  if (*parsed == cli::CommandLine::help) {
    out << kUsage;
    return 0;
  }
  if (app.chosen_subcommand().empty()) {
    err << kUsage;
    return 2;
  }
  auto config = load_config(config_file);
  if (!config) {
    err << "noreboot-feed: " << config.error().message() << "\n";
    return 2;
  }
  return run->parsed() ? run_feed(*config, out, err) : show_status(*config, as_json, out, err);
}

}  // namespace noreboot::feed
