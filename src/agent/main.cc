// noreboot: the host agent and its commands. All logic is in noreboot_agentlib (cli.cc);
// main only chooses the exit code.
#include <iostream>

#include "agent/cli.h"

int main(int argc, char** argv) {
  using noreboot::agent::Outcome;
  std::vector<std::string> args(argv + 1, argv + argc);
  Outcome o = noreboot::agent::run_cli(args, std::cout, std::cerr);
  switch (o) {
    case Outcome::ok: return 0;
    case Outcome::failed: return 1;
    case Outcome::usage: return 2;
    case Outcome::refused: return 3;
    case Outcome::reversed: return 4;
    case Outcome::warning: return 1;
    case Outcome::critical: return 2;
    case Outcome::unknown: return 3;
  }
  return 1;
}
