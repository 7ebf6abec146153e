// `noreboot-build diff ORIG.o PATCHED.o [--json] [-o OUT.o]`: the differ on two objects.
//
// Exit codes (ARCHITECTURE.md): 0 patchable changes found; 2 usage; 3 refused (each refusal on
// stderr); 4 no change; 1 any other error. With --json, one JSON object on stdout:
//   {"changed": [...], "new": [...], "refused": [{"symbol", "reason", "hint"}], ...}
// (docs/differ.md lists every field). The builder routes `noreboot-build diff` here.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "diff/differ.h"

namespace noreboot::diff {

struct DiffCommandLine {
  bool help = false;
  bool json = false;
  std::string output;               // -o/--output: where the patch object goes (none: no output)
  std::vector<std::string> files;   // ORIG.o PATCHED.o
};

// args: the arguments after "diff"; an invalid_argument Error names the bad argument.
Result<DiffCommandLine> parse_diff_command_line(const std::vector<std::string>& args);

// args: the arguments after "diff". Only the caller's main turns the return into an exit code.
int run_cli(const std::vector<std::string>& args);

// The --json document for a result (also used by tests and the builder's logs).
std::string result_json(const DiffResult& r, const std::string& output_path);

}  // namespace noreboot::diff
