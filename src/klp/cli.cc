// noreboot-klp's command line: see cli.h.
#include "klp/cli.h"

#include "core/command_line.h"

namespace noreboot::klp {

const char* const kKlpUsage =
    "usage: noreboot-klp index --abi ABI\n"
    "       noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME\n"
    "       noreboot-klp module --abi ABI --name NAME -o OUT.ko [--workdir DIR] [--kbuild]\n"
    "           [--sign-key KEY.pem --sign-cert CERT.pem]\n"
    "           (--object P.o [--target vmlinux|MOD] [--func F]... [--local REF[=FILE.c]]...)...\n";

Result<KlpCommandLine> parse_klp_command_line(const std::vector<std::string>& args) {
  using Command = KlpCommandLine::Command;
  KlpCommandLine c;
  cli::App app;
  auto* index = app.add_subcommand("index");
  index->add_option("--abi", c.abi)->required();

  auto* resolve = app.add_subcommand("resolve");
  resolve->add_option("--abi", c.abi)->required();
  resolve->add_option("--module", c.module);
  resolve->add_flag("--local", c.local);
  resolve->add_option("--file", c.file);
  resolve->add_option("NAME", c.symbol)->required();

  auto* module = app.add_subcommand("module");
  module->add_option("--abi", c.abi)->required();
  module->add_option("--name", c.module_name)->required();
  module->add_option("-o", c.output)->required();
  module->add_option("--workdir", c.workdir);
  module->add_flag("--kbuild", c.kbuild);
  module->add_option("--sign-key", c.sign_key);
  module->add_option("--sign-cert", c.sign_cert);
  std::string misplaced;  // the first per-object option given before any --object
  auto per_object = [&](const char* name, auto apply) {
    module->add_each(name, [&, name, apply](const std::string& v) {
      if (c.objects.empty()) {
        if (misplaced.empty()) misplaced = name;
        return;
      }
      apply(c.objects.back().input, v);
    });
  };
  module->add_each("--object", [&](const std::string& path) {
    c.objects.push_back({});
    c.objects.back().path = path;
    c.objects.back().input.target = "vmlinux";
  });
  per_object("--target", [](PatchObjectInput& in, const std::string& v) { in.target = v; });
  per_object("--func", [](PatchObjectInput& in, const std::string& v) { in.functions.push_back({v, ""}); });
  per_object("--local", [](PatchObjectInput& in, const std::string& v) {
    auto eq = v.find('=');
    in.references[v.substr(0, eq)] = ReferenceInfo{true, eq == std::string::npos ? "" : v.substr(eq + 1)};
  });

  NR_TRY(auto parsed, cli::parse_command_line(app, args));
  if (parsed == cli::CommandLine::help) return c;
  if (!misplaced.empty())
    return Error(Errc::invalid_argument, misplaced + " belongs to an object: give --object PATCH.o before it");
  if (index->parsed()) c.command = Command::index;
  else if (resolve->parsed()) c.command = Command::resolve;
  else if (module->parsed()) c.command = Command::module;
  else return Error(Errc::invalid_argument, "which command? index, resolve or module");
  if (c.command == Command::module && c.objects.empty())
    return Error(Errc::invalid_argument, "module needs at least one --object PATCH.o");
  if (c.sign_key.empty() != c.sign_cert.empty())
    return Error(Errc::invalid_argument, "--sign-key and --sign-cert go together");
  return c;
}

}  // namespace noreboot::klp
