// parse_args: the command's declared options become a CLI11 app (core/command_line.h), which
// walks the arguments; this file only adds the admin tool's rules on top: a value option given
// twice is refused unless it is declared repeatable.
#include "admin/args.h"

#include "core/command_line.h"

namespace noreboot::admin {

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args, const std::vector<OptionSpec>& specs) {
  cli::App app;
  std::map<std::string, std::vector<std::string>> values;  // std::map: the slots stay put
  std::map<std::string, bool> flags;
  ParsedArgs out;
  for (const auto& s : specs) {
    const std::string names = (s.alias ? std::string("-") + s.alias + "," : "") + "--" + s.name;
    if (s.takes_value) app.add_list(names, values[s.name]);
    else app.add_flag(names, flags[s.name])->disable_flag_override();
  }
  app.add_option("ARGS", out.positional);
  NR_TRY(auto parsed, cli::parse_command_line(app, args));
  if (parsed == cli::CommandLine::help) {
    out.help = true;
    return out;
  }
  for (const auto& s : specs) {
    auto& given = values[s.name];
    if (given.size() > 1 && !s.repeatable)
      return Error(Errc::invalid_argument, "option --" + s.name + " given more than once");
    if (!given.empty()) out.values[s.name] = std::move(given);
    if (flags[s.name]) out.flags[s.name] = true;
  }
  return out;
}

}  // namespace noreboot::admin
