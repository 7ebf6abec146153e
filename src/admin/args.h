// Command-line parsing for noreboot-admin subcommands: declared options, parsed once.
//
// Each command declares its options (long name, optional one-letter alias, whether it takes a
// value, whether it may repeat); parse_args checks the command line against that through CLI11
// (core/command_line.h) and returns a ParsedArgs, or an Errc::invalid_argument error naming the
// bad option. `--name value` and `--name=value` are both accepted; `--` ends the options.
// `--help`/`-h` is always known, and wins over any other argument.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::admin {

struct OptionSpec {
  std::string name;         // without dashes: "trust"
  char alias = 0;           // e.g. 'o' for -o
  bool takes_value = true;
  bool repeatable = false;
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // options with values
  std::map<std::string, bool> flags;                      // options without values
  std::vector<std::string> positional;
  bool help = false;

  bool flag(const std::string& name) const { return flags.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
};

Result<ParsedArgs> parse_args(std::span<const std::string> args, const std::vector<OptionSpec>& specs);

}  // namespace noreboot::admin
