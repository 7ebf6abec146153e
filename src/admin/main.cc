// noreboot-admin: keys, bundles and (as they land) publishing and rollouts. The commands live in
// the admin library; this file only builds the command table and maps the result to an exit code.
#include <iostream>
#include <string>
#include <vector>

#include "admin/command.h"

int main(int argc, char** argv) {
  using namespace noreboot::admin;
  CommandTable table;
  register_key_commands(table);
  register_bundle_commands(table);
  register_identity_commands(table);
  register_server_commands(table);
  std::vector<std::string> args(argv + 1, argv + argc);
  Context ctx{std::cout, std::cerr};
  int code = run_admin(table, args, ctx);
  std::cout.flush();
  return code;
}
