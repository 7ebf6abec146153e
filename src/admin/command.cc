#include "admin/command.h"

#include <ostream>

namespace noreboot::admin {

int exit_code_for(const Error& error) {
  switch (error.code()) {
    case Errc::invalid_argument: return 2;
    case Errc::signature:
    case Errc::integrity:
    case Errc::invalid_input:
    case Errc::refused: return 3;
    default: return 1;
  }
}

static void print_command_list(const CommandTable& table, std::ostream& os) {
  os << "usage: noreboot-admin COMMAND [OPTIONS] [ARGS]\n\ncommands:\n";
  for (const auto& c : table) {
    os << "  " << c.name << std::string(c.name.size() < 14 ? 14 - c.name.size() : 1, ' ') << c.summary << "\n";
  }
  os << "\n'noreboot-admin COMMAND --help' describes one command.\n"
        "exit codes: 0 ok, 1 error, 2 usage, 3 bundle rejected (signature, hash, format, kernel)\n";
}

int run_admin(const CommandTable& table, std::span<const std::string> args, Context& ctx) {
  if (args.empty()) {
    print_command_list(table, ctx.err);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_command_list(table, ctx.out);
    return 0;
  }
  const Command* cmd = nullptr;
  for (const auto& c : table)
    if (c.name == args[0]) cmd = &c;
  if (!cmd) {
    ctx.err << "noreboot-admin: unknown command '" << args[0] << "'\n\n";
    print_command_list(table, ctx.err);
    return 2;
  }
  auto parsed = parse_args(args.subspan(1), cmd->options);
  if (!parsed) {
    ctx.err << "noreboot-admin " << cmd->name << ": " << parsed.error().message() << "\n"
            << "(see 'noreboot-admin " << cmd->name << " --help')\n";
    return 2;
  }
  if (parsed->help) {
    ctx.out << cmd->usage;
    return 0;
  }
  Status s = cmd->run(*parsed, ctx);
  if (!s.ok()) {
    ctx.err << "noreboot-admin " << cmd->name << ": " << s.error().message() << "\n";
    if (s.error().code() == Errc::invalid_argument) ctx.err << "(see 'noreboot-admin " << cmd->name << " --help')\n";
    return exit_code_for(s.error());
  }
  return 0;
}

}  // namespace noreboot::admin
