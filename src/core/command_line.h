// Command lines through CLI11: one way for every noreboot tool to read its arguments.
//
// Each tool declares its commands and options on a CLI::App (Debian's libcli11-dev, header
// only) and hands the arguments to parse_command_line below. CLI11 does the walking: `--name
// value`, `--name=value`, `-o value`, `--` ending the options, repeated options, numbers. What
// this file adds is noreboot's contract around it, so the tools behave alike:
//
//   - Nothing throws past this function. A usage error becomes an Errc::invalid_argument Error
//     whose message names the argument that was wrong ("unknown option '--bogus'", "option
//     --output needs a value", "--jobs 'x' is not a valid number"); an option's type_name, when
//     the tool gives one, says what the value is ("option --kernel needs debian:ABI"). Each tool
//     adds its own prefix and usage hint, and its main alone turns the error into exit code 2.
//   - `-h`/`--help` anywhere (also after a command, and also next to arguments that would be
//     refused) answers CommandLine::help, and the tool prints its own usage text. The usage
//     texts stay hand-written: they are the tools' documentation, with examples and exit codes.
//   - An option the tool does not declare is refused by name, and so is a stray word; in an app
//     with commands, a first word that is no command is "unknown command 'x'".
//   - A value option takes exactly one value per occurrence (never the words after it), and
//     given twice the last one counts, as it always has; a list option keeps every occurrence.
//   - Numbers are read by add_number: decimal digits only (core/numbers.h), never a sign.
//
// prepare_app must run on the app before options are added (it sets the option defaults).
// The parsing itself is compiled once, in command_line.cc: CLI11 is header only, and its
// parser is the costly part to compile (the header alone costs a tool's cli.cc several seconds
// of CPU; docs/design.md has the numbers).
// CLI11's own wording is translated in describe_parse_error; command_line_test pins that
// translation, so a newer CLI11 that words its errors differently fails a unit test rather than
// a person's shell.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::cli {

enum class CommandLine { run, help };

// Unknown options and words are collected (and then refused by parse_command_line with their
// name) instead of CLI11's generic "The following arguments were not expected".
inline void prepare_app(CLI::App& app) {
  app.allow_extras();
  app.require_subcommand(0, 1);  // an app with commands runs one of them
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// An option that may repeat: every occurrence adds one value (`--trust a --trust b`).
inline CLI::Option* add_list(CLI::App& app, const std::string& name, std::vector<std::string>& into,
                             const std::string& what = "") {
  return app.add_option(name, into, what)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// A whole decimal number: digits only, as core's parse_decimal reads them (CLI11's own
// conversion would take "-1" for 2^64-1, and "0x10"). Bad text is a usage error naming it.
CLI::Option* add_number(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& into,
                        const std::string& what = "");

// CLI11's messages, reworded to name the argument and what was wrong with it.
std::string describe_parse_error(const CLI::ParseError& e);

// Parses args (the words after the program name, in order) into app and the apps of its
// commands. Returns help when -h/--help was given, or an invalid_argument Error naming the bad
// argument.
Result<CommandLine> parse_command_line(CLI::App& app, std::span<const std::string> args);

}  // namespace noreboot::cli
