// The parsing half of core/command_line.h, compiled once for every tool.
#include "core/command_line.h"

#include <algorithm>
#include <cctype>

#include "core/numbers.h"

namespace noreboot::cli {

CLI::Option* add_number(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& into,
                        const std::string& what) {
  return app.add_option_function<std::string>(
      name,
      [&into, name](const std::string& text) {
        into = parse_decimal(text);
        if (!into) throw CLI::ConversionError(name, std::vector<std::string>{text});
      },
      what);
}

// CLI11's wording is pinned by command_line_test.
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

Result<CommandLine> parse_command_line(CLI::App& app, std::span<const std::string> args) {
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
