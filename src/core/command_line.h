// Command lines through CLI11: one way for every noreboot tool to read its arguments.
//
// Each tool declares its commands and options on a cli::App and hands the arguments to
// parse_command_line below. CLI11 (Debian's
// libcli11-dev) does the walking: `--name value`, `--name=value`, `-o value`, `--` ending the
// options, repeated options, commands. What this file adds is noreboot's contract around it,
// so the tools behave alike:
//
//   - Nothing throws past parse_command_line. A usage error becomes an Errc::invalid_argument Error whose
//     message names the argument that was wrong ("unknown option '--bogus'", "option --output
//     needs a value", "--jobs 'x' is not a valid number"); an option's type_name, when the tool
//     gives one, says what the value is ("option --kernel needs debian:ABI"). Each tool adds its
//     own prefix and usage hint, and its main alone turns the error into exit code 2.
//   - `-h`/`--help` anywhere (also after a command, and also next to arguments that would be
//     refused) answers CommandLine::help, and the tool prints its own usage text. The usage
//     texts stay hand-written: they are the tools' documentation, with examples and exit codes.
//   - An option the tool does not declare is refused by name, and so is a stray word; in an app
//     with commands, a first word that is no command is "unknown command 'x'".
//   - A value option takes exactly one value per occurrence (never the words after it), and
//     given twice the last one counts, as it always has; a list option keeps every occurrence.
//   - Numbers are read by add_number: decimal digits only (core/numbers.h), never a sign.
//
// Why a layer of our own and not CLI::App itself: compile time. CLI11 2.1 is header only, and
// including <CLI/CLI.hpp> costs a file about 9 CPU-seconds at -O2 whatever it uses of it (the
// header defines validator objects that every including file constructs, and its inline
// parser is compiled again wherever it is called). Six tools' parsers paid that in every build
// (issue 16 item 7; docs/benchmarks.md, "Compiling noreboot"). Here the tools see only
// declarations: cli::App and cli::Option hold a CLI::App* / CLI::Option* and forward each call
// to command_line.cc, the one file of the project that includes CLI11. The names and the
// pointer style (`auto* run = app.add_subcommand("run"); run->add_flag(...)`) are CLI11's, so a
// reader who knows CLI11 reads the tools' parsers as before; what CLI11 offers beyond this
// surface is added here when a tool needs it.
//
// CLI11's own wording is translated in command_line.cc (describe_parse_error);
// command_line_test pins that translation, so a newer CLI11 that words its errors differently
// fails a unit test rather than a person's shell.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace noreboot::cli {

enum class CommandLine { run, help };

// One declared option, flag or positional. Owned by the App it was added to; the setters
// return the option again, so they chain (`app.add_option(...)->type_name("a folder")`).
class Option {
 public:
  explicit Option(CLI::Option* option) : option_(option) {}
  // What the value is, for "option --kernel needs TYPE_NAME" when the value is missing.
  Option* type_name(const std::string& what);
  // Parsing fails ("--abi is required") when the option is not given.
  Option* required();
  // A flag refuses a value (`--json=1`: "option --json takes no value").
  Option* disable_flag_override();

 private:
  CLI::Option* option_;
};

// A tool's command line, or one of its commands (add_subcommand). The App made by the tool
// owns its commands and every option; the pointers it hands out live as long as it does.
class App {
 public:
  explicit App(const std::string& name = "");
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // A value option (a name with dashes: "-o,--output") or a positional (a name without:
  // "FILE"). A vector positional takes every remaining word.
  Option* add_option(const std::string& name, std::string& into, const std::string& what = "");
  Option* add_option(const std::string& name, std::optional<std::string>& into, const std::string& what = "");
  Option* add_option(const std::string& name, std::vector<std::string>& into, const std::string& what = "");
  // An option that may repeat: every occurrence adds one value (`--trust a --trust b`).
  Option* add_list(const std::string& name, std::vector<std::string>& into, const std::string& what = "");
  // A whole decimal number: digits only, as core's parse_decimal reads them (CLI11's own
  // conversion would take "-1" for 2^64-1, and "0x10"). Bad text is a usage error naming it.
  Option* add_number(const std::string& name, std::optional<std::uint64_t>& into, const std::string& what = "");
  // A value option whose every occurrence calls each(value) at once, in command-line order
  // (for options that belong to the one given before them, as noreboot-klp's --object).
  Option* add_each(const std::string& name, std::function<void(const std::string&)> each);
  Option* add_flag(const std::string& name, bool& into, const std::string& what = "");

  // A command: its own options, and the words after its name are its arguments.
  App* add_subcommand(const std::string& name, const std::string& what = "");
  // This command's parent's options may also be given after the command's name.
  App* fallthrough();

  // After parse: whether this command was given; the name of the command given ("" if none;
  // an app with commands runs one at most).
  bool parsed() const;
  std::string chosen_subcommand() const;

  friend Result<CommandLine> parse_command_line(App& app, std::span<const std::string> args);

 private:
  explicit App(CLI::App* command);
  Option* keep(CLI::Option* option);

  std::unique_ptr<CLI::App> owned_;  // the tool's own app; a command's is owned by its parent
  CLI::App* app_;
  std::vector<std::unique_ptr<App>> subcommands_;
  std::deque<Option> options_;        // deque: the pointers handed out stay valid
};

// Parses args (the words after the program name, in order) into app and the apps of its
// commands. Returns help when -h/--help was given, or an invalid_argument Error naming the bad
// argument. Parse an App once.
Result<CommandLine> parse_command_line(App& app, std::span<const std::string> args);

}  // namespace noreboot::cli
