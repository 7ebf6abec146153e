// The command line of noreboot-build. run_cli parses the arguments into a BuildConfig, runs
// the requested command and prints its report; it returns an outcome, and main maps outcomes
// and errors to exit codes (0 built, 1 error, 2 usage, 3 refused, 4 no change: the same
// codes as `noreboot-build diff`).
#pragma once

#include <string>
#include <vector>

#include "builder/build.h"
#include "core/result.h"

namespace noreboot::builder {

enum class CliOutcome { ok, refused, no_change, usage, failed /* already reported */ };

Result<CliOutcome> run_cli(const std::vector<std::string>& args);

// The build's command line, read by CLI11 (core/command_line.h): the words after the program
// name, except `diff ...` and `cache ...`, which run_cli hands to their own parsers.
struct BuildCommandLine {
  std::string command;  // "" (build), "prepare", "compile" or "header-index"
  bool help = false;
  BuildConfig config;
  std::string elf, owner = "vmlinux";  // header-index --elf FILE [--owner NAME]
};
Result<BuildCommandLine> parse_build_command_line(const std::vector<std::string>& args);

// Exit code for an outcome or an error (used by main only).
int exit_code_for(const Result<CliOutcome>& r);

extern const char* const kUsage;

}  // namespace noreboot::builder
