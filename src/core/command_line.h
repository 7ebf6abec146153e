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
// CLI11's own wording is translated in describe_parse_error; command_line_test pins that
// translation, so a newer CLI11 that words its errors differently fails a unit test rather than
// a person's shell.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/numbers.h"
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
inline CLI::Option* add_number(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& into,
                               const std::string& what = "") {
  return app.add_option_function<std::string>(
      name,
      [&into, name](const std::string& text) {
        into = parse_decimal(text);
        if (!into) throw CLI::ConversionError(name, std::vector<std::string>{text});
      },
      what);
}

// CLI11's messages, reworded to name the argument and what was wrong with it.
inline std::string describe_parse_error(const CLI::ParseError& e) {
  std::string m = e.what();
  auto ends_with = [&](std::string_view tail) { return m.size() >= tail.size() && m.ends_with(tail); };
  auto dashed = [](std::string name) { return name.starts_with("-") ? name : "--" + name; };
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    // "NAME: 1 required TYPE missing": TYPE is CLI11's (TEXT, INT...) or the tool's type_name.
    constexpr std::string_view required = " required ", missing = " missing";
    if (auto at = m.find(required); ends_with(missing) && m.find(": ") != std::string::npos && at != std::string::npos) {
      const std::string type = m.substr(at + required.size(), m.size() - missing.size() - at - required.size());
      const bool generic = std::all_of(type.begin(), type.end(),
                                       [](unsigned char ch) { return std::isupper(ch) || ch == '_'; });
      return "option " + dashed(m.substr(0, m.find(": "))) + " needs " + (generic ? "a value" : type);
    }
    if (constexpr std::string_view tail = " was given a disallowed flag override"; ends_with(tail))
      return "option " + dashed(m.substr(0, m.size() - tail.size())) + " takes no value";
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    constexpr std::string_view head = "Could not convert: ";
    if (auto eq = m.find(" = "); m.starts_with(head) && eq != std::string::npos)
      return m.substr(head.size(), eq - head.size()) + " '" + m.substr(eq + 3) + "' is not a valid number";
  }
  return m;
}

// Parses args (the words after the program name, in order) into app and the apps of its
// commands. Returns help when -h/--help was given, or an invalid_argument Error naming the bad
// argument.
inline Result<CommandLine> parse_command_line(CLI::App& app, std::span<const std::string> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return CommandLine::help;
  } catch (const CLI::CallForAllHelp&) {
    return CommandLine::help;
  } catch (const CLI::ParseError& e) {
    return Error(Errc::invalid_argument, describe_parse_error(e));
  }
  std::vector<std::string> strays = app.remaining(/*recurse=*/true);
  strays.erase(std::remove(strays.begin(), strays.end(), "--"), strays.end());
  if (strays.empty()) return CommandLine::run;
  const std::string& first = strays.front();
  const bool has_commands = !app.get_subcommands({}).empty();
  if (has_commands && app.get_subcommands().empty() && !first.starts_with("-"))
    return Error(Errc::invalid_argument, "unknown command '" + first + "'");
  if (first.size() > 1 && first.starts_with("-")) return Error(Errc::invalid_argument, "unknown option '" + first + "'");
  return Error(Errc::invalid_argument, "unexpected argument '" + first + "'");
}

}  // namespace noreboot::cli
