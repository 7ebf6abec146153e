// noreboot-feed's command line: see cli.h.
#include "feed/cli.h"

#include <ostream>

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
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string& cmd = args[0];
  if (cmd != "run" && cmd != "status") {
    err << "noreboot-feed: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  }
  std::string config_file = "/etc/noreboot/feed.toml";
  bool json = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_file = args[++i];
    else if (args[i] == "--json" && cmd == "status") json = true;
    else {
      err << "noreboot-feed " << cmd << ": unexpected argument '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  auto config = load_config(config_file);
  if (!config) {
    err << "noreboot-feed: " << config.error().message() << "\n";
    return 2;
  }
  return cmd == "run" ? run_feed(*config, out, err) : show_status(*config, json, out, err);
}

}  // namespace noreboot::feed
