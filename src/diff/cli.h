// `noreboot-build diff ORIG.o PATCHED.o [--json] [-o OUT.o]`: the differ on two objects.
//
// Exit codes (ARCHITECTURE.md): 0 patchable changes found; 2 usage; 3 refused (each refusal on
// stderr); 4 no change; 1 any other error. With --json, one JSON object on stdout:
//   {"changed": [...], "new": [...], "refused": [{"symbol", "reason", "hint"}], ...}
// (docs/differ.md lists every field). The builder routes `noreboot-build diff` here.
#pragma once

#include <string>
#include <vector>

#include "diff/differ.h"

namespace noreboot::diff {

// args: the arguments after "diff". Only the caller's main turns the return into an exit code.
int run_cli(const std::vector<std::string>& args);

// The --json document for a result (also used by tests and the builder's logs).
std::string result_json(const DiffResult& r, const std::string& output_path);

}  // namespace noreboot::diff
