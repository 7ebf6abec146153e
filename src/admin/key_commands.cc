// noreboot-admin keygen: create a publisher key pair.
#include <ostream>

#include "admin/command.h"
#include "core/keys.h"

namespace noreboot::admin {
namespace {

constexpr const char* kKeygenUsage = R"(usage: noreboot-admin keygen [--comment TEXT] PREFIX

Creates an ed25519 publisher key pair:
  PREFIX.key  the secret key (mode 0600): sign bundles with it, keep it on the build machine
  PREFIX.pub  the public key: give it to agents (--trust, or their trusted-keys folder)
Refuses to overwrite an existing key. Prints the key id (it appears in every signature).
See docs/bundle-format.md for the file formats.

options:
  --comment TEXT   free text stored in PREFIX.pub (e.g. who owns the key)
)";

Status keygen(const ParsedArgs& args, Context& ctx) {
  if (args.positional.size() != 1)
    return Error(Errc::invalid_argument, "expected exactly one PREFIX (e.g. keys/publisher)");
  std::string comment = args.value("comment").value_or("");
  for (char c : comment)
    if (c == '\n' || c == '\r') return Error(Errc::invalid_argument, "--comment must be one line");
  SecretKey key = SecretKey::generate(comment);
  NR_TRY_STATUS(save_key_pair(args.positional[0], key));
  ctx.out << "key id " << key.id() << "\n"
          << "secret key: " << args.positional[0] << ".key (mode 0600)\n"
          << "public key: " << args.positional[0] << ".pub\n";
  return ok_status();
}

}  // namespace

void register_key_commands(CommandTable& table) {
  table.push_back({"keygen", "create a publisher key pair (PREFIX.key, PREFIX.pub)", kKeygenUsage,
                   {{"comment"}}, keygen});
}

}  // namespace noreboot::admin
