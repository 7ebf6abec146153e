// The subcommand table of noreboot-admin.
//
// Each command group lives in its own file and adds its commands to the table through a
// register_*_commands function (key_commands.cc, bundle_commands.cc, and later the server-facing
// commands); main.cc only builds the table and dispatches. A command gets its parsed arguments
// and the output streams, and returns a Status: main alone turns that into an exit code
// (exit_code_for below), so every command behaves the same way on error.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "admin/args.h"
#include "core/result.h"

namespace noreboot::admin {

struct Context {
  std::ostream& out;  // results (what scripts read)
  std::ostream& err;  // progress and diagnostics
};

struct Command {
  std::string name;
  std::string summary;  // one line for the command list
  std::string usage;    // full --help text
  std::vector<OptionSpec> options;
  std::function<Status(const ParsedArgs&, Context&)> run;
};

using CommandTable = std::vector<Command>;

void register_key_commands(CommandTable& table);
void register_bundle_commands(CommandTable& table);
void register_identity_commands(CommandTable& table);
void register_server_commands(CommandTable& table);  // cmd_server.cc (server part)

// Exit codes of noreboot-admin: 0 success; 2 usage error; 3 the bundle was rejected (bad
// signature, untrusted key, hash mismatch, malformed archive, wrong kernel); 1 anything else.
int exit_code_for(const Error& error);

// Runs argv[1..] against the table: dispatch, --help, usage errors. Returns the exit code.
int run_admin(const CommandTable& table, std::span<const std::string> args, Context& ctx);

}  // namespace noreboot::admin
