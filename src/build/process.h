// Running the tools the builder drives (make, gcc, patch, tar, kernel-fetch).
//
// Problem: the builder is an orchestrator: most of its seconds are spent in child processes,
// and their failures must become Errors that say which command failed, in which folder, with
// the tail of what it printed, never an exit() or an exception.
// Approach: fork + execvp with an explicit argv (no shell unless the caller asks for one, as
// for Kbuild's recorded command lines, which are shell text by definition). Output is either
// captured (small outputs we parse) or sent to a log file (compiler output), whose tail goes
// into the error message. Trade-off: no streaming of a child's output to the terminal; the
// builder prints its own step lines instead, which keeps the output readable with 2 jobs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::build {

struct ProcessOptions {
  std::filesystem::path cwd;            // empty: the current folder
  std::filesystem::path log;            // empty: inherit stderr; else stdout+stderr go here
  bool capture_stdout = false;          // put stdout into ProcessResult::out
  std::filesystem::path stdin_file;     // empty: /dev/null
  std::vector<std::string> env;         // extra NAME=VALUE entries
};

struct ProcessResult {
  int exit_code = 0;                    // 128+N when killed by signal N
  std::string out;
};

// Runs argv[0] (looked up in PATH). An Error only when it could not be started; a non-zero
// exit is reported in exit_code.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& opts);

// Runs it and turns a non-zero exit into an Error naming the command and the log's tail.
Result<std::string> run_checked(const std::vector<std::string>& argv, const ProcessOptions& opts);

// "a b 'c d'": for messages and for --keep-work scripts.
std::string shell_join(const std::vector<std::string>& argv);
std::string shell_quote(const std::string& word);

// The last `lines` lines of a file (for error messages).
std::string tail_of(const std::filesystem::path& file, int lines = 15);

}  // namespace noreboot::build
