// noreboot-diff: a test-only front end for the differ until noreboot-build routes
// `noreboot-build diff` to run_cli. Only main picks the exit code.
#include <string>
#include <vector>

#include "diff/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "diff") args.erase(args.begin());
  return noreboot::diff::run_cli(args);
}
