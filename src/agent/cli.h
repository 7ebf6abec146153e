// The `noreboot` command line: parses arguments, builds the AgentContext, runs one command.
//
//   noreboot [--config FILE] [--state-dir DIR] [--root DIR] COMMAND [ARGS]
//     apply [--trust KEY.pub]... [--json] FILE.nrp
//     revert
//     status [--json]
//     check
//     enroll --token TOKEN [--server URL]
//     agent  [--once]
//
// --root DIR is for tests: /proc, /sys and /dev/kmsg are read under DIR through the fake
// kernel (fake_kernel.h), and the config and state default to DIR/etc/noreboot/agent.toml and
// DIR/var/lib/noreboot. Without it the real kernel is used.
//
// The words are read by CLI11 (core/command_line.h): the global options come before the
// command, each command knows only its own options, and a usage error names the argument
// ("noreboot: apply: unknown option '--bogus'") above the usage text.
//
// run_cli returns an Outcome; main() alone turns it into the process exit code
// (docs/agent.md lists them).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace noreboot::agent {

enum class Outcome {
  ok,        // 0
  failed,    // 1: an error that is none of the below
  usage,     // 2: bad command line or configuration
  refused,   // 3: apply: a check refused the bundle, nothing was loaded
  reversed,  // 4: apply: loaded, the transition did not finish, reversed
  warning,   // check: 1
  critical,  // check: 2
  unknown,   // check: 3
};

Outcome run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace noreboot::agent
