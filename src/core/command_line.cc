// The CLI11 half of core/command_line.h: the only file of the project that includes
// <CLI/CLI.hpp>, so its cost is paid once per build (see command_line.h).
#include "core/command_line.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>

#include "core/numbers.h"

namespace noreboot::cli {
namespace {

// CLI11's messages, reworded to name the argument and what was wrong with it; the wording is
// pinned by command_line_test.
std::string describe_parse_error(const CLI::ParseError& e) {
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

}  // namespace

Option* Option::type_name(const std::string& what) {
  option_->type_name(what);
  return this;
}

Option* Option::required() {
  option_->required();
  return this;
}

Option* Option::disable_flag_override() {
  option_->disable_flag_override();
  return this;
}

// Unknown options and words are collected (and then refused by parse_command_line with their
// name) instead of CLI11's generic "The following arguments were not expected".
App::App(const std::string& name) : owned_(std::make_unique<CLI::App>(name)), app_(owned_.get()) {
  app_->allow_extras();
  app_->require_subcommand(0, 1);  // an app with commands runs one of them
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

App::App(CLI::App* command) : app_(command) {}

App::~App() = default;

Option* App::keep(CLI::Option* option) { return &options_.emplace_back(option); }

Option* App::add_option(const std::string& name, std::string& into, const std::string& what) {
  return keep(app_->add_option(name, into, what));
}

Option* App::add_option(const std::string& name, std::optional<std::string>& into, const std::string& what) {
  return keep(app_->add_option(name, into, what));
}

Option* App::add_option(const std::string& name, std::vector<std::string>& into, const std::string& what) {
  return keep(app_->add_option(name, into, what));
}

Option* App::add_list(const std::string& name, std::vector<std::string>& into, const std::string& what) {
  return keep(app_->add_option(name, into, what)
                  ->allow_extra_args(false)
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll));
}

Option* App::add_number(const std::string& name, std::optional<std::uint64_t>& into, const std::string& what) {
  return keep(app_->add_option_function<std::string>(
      name,
      [&into, name](const std::string& text) {
        into = parse_decimal(text);
        if (!into) throw CLI::ConversionError(name, std::vector<std::string>{text});
      },
      what));
}

Option* App::add_each(const std::string& name, std::function<void(const std::string&)> each) {
  return keep(app_->add_option_function<std::string>(name, std::move(each))->trigger_on_parse());
}

Option* App::add_flag(const std::string& name, bool& into, const std::string& what) {
  return keep(app_->add_flag(name, into, what));
}

App* App::add_subcommand(const std::string& name, const std::string& what) {
  subcommands_.push_back(std::unique_ptr<App>(new App(app_->add_subcommand(name, what))));
  return subcommands_.back().get();
}

App* App::fallthrough() {
  app_->fallthrough();
  return this;
}

bool App::parsed() const { return app_->parsed(); }

std::string App::chosen_subcommand() const {
  const auto chosen = app_->get_subcommands();
  return chosen.empty() ? "" : chosen.front()->get_name();
}

Result<CommandLine> parse_command_line(App& command_line, std::span<const std::string> args) {
  CLI::App& app = *command_line.app_;
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
