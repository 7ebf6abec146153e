// noreboot-klp's command line (the klp part's tools, for tests and for people):
//   noreboot-klp index --abi ABI
//       build (or load) the vmlinux symbol index from the cached -dbg package
//   noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME
//       print the sympos of a kernel symbol
//   noreboot-klp module --abi ABI --name NAME -o OUT.ko [--workdir DIR] [--kbuild]
//       [--sign-key KEY.pem --sign-cert CERT.pem]
//       (--object PATCH.o [--target vmlinux|MODULE] [--func NAME]... [--local REF[=FILE.c]]...)...
//       turn differ output objects into a livepatch module; --local marks an undefined
//       reference that was a static symbol of the unit (FILE.c: its STT_FILE name, default the
//       object's own)
// Exit codes: 0 ok, 1 error, 2 usage, 3 refused (the patch cannot be made safely).
//
// The module command's --target, --func and --local belong to the --object before them, so
// their order matters: CLI11 runs their callbacks as each one is read (trigger_on_parse).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "klp/module_gen.h"

namespace noreboot::klp {

extern const char* const kKlpUsage;

struct KlpCommandLine {
  enum class Command { help, index, resolve, module } command = Command::help;
  std::string abi;
  // resolve
  std::string symbol, module, file;
  bool local = false;
  // module
  std::string module_name, output, workdir, sign_key, sign_cert;
  bool kbuild = false;
  std::vector<PatchObject> objects;
};

// The words after the program name; an invalid_argument Error names what is wrong.
Result<KlpCommandLine> parse_klp_command_line(const std::vector<std::string>& args);

}  // namespace noreboot::klp
