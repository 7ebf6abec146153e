#include "admin/args.h"

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
  ParsedArgs out;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") { options_done = true; continue; }
    if (a == "--help" || a == "-h") { out.help = true; continue; }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      for (const auto& s : specs)
        if (s.name == name) spec = &s;
    } else if (a.size() == 2) {
      for (const auto& s : specs)
        if (s.alias == a[1]) spec = &s;
    }
    if (!spec) return Error(Errc::invalid_argument, "unknown option '" + a + "' (see --help)");
    if (!spec->takes_value) {
      if (inline_value) return Error(Errc::invalid_argument, "option --" + spec->name + " takes no value");
      out.flags[spec->name] = true;
      continue;
    }
    std::string v;
    if (inline_value) {
      v = *inline_value;
    } else {
      if (i + 1 >= args.size())
        return Error(Errc::invalid_argument, "option --" + spec->name + " needs a value");
      v = args[++i];
    }
    auto& slot = out.values[spec->name];
    if (!slot.empty() && !spec->repeatable)
      return Error(Errc::invalid_argument, "option --" + spec->name + " given more than once");
    slot.push_back(v);
  }
  return out;
}

}  // namespace noreboot::admin
