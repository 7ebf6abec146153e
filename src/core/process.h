// Running other programs: the one child-process runner of noreboot (the builder drives make,
// gcc, patch, tar and kernel-fetch; the feed drives debian-fix, noreboot-build, noreboot-vm,
// noreboot-admin and apt-cache; klp drives dpkg-deb, make, ld and sign-file through run_shell).
//
// Problem: both are orchestrators: most of their seconds are spent in child processes, and
// a child's failure must become an Error that says which command failed, in which folder, with
// the tail of what it printed, never an exit() or an exception.
// Approach: fork + execvp with an explicit argv (no shell unless the caller asks for one, as
// for Kbuild's recorded command lines, which are shell text by definition). Output is either
// captured (small outputs we parse) or appended to a log file (compiler output, a feed step's
// history), whose tail goes into the error message. A program that cannot be started is told
// apart from one that ran and failed through a close-on-exec pipe that carries exec's errno,
// not by guessing from exit code 127. `die_with_parent` gives the child PR_SET_PDEATHSIG
// SIGKILL, so a killed orchestrator takes its child with it and a rerun never races an orphan
// writing into the folder it starts again.
// Trade-off: no streaming of a child's output to the terminal; callers print their own step
// lines instead, which keeps the output readable with 2 jobs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot {

struct ProcessOptions {
  std::filesystem::path cwd;            // empty: the current folder
  std::filesystem::path log;            // empty: inherit stderr; else stderr (and stdout unless
                                        // captured) are appended here
  bool capture_stdout = false;          // put stdout into ProcessResult::out
  std::filesystem::path stdin_file;     // empty: /dev/null
  std::vector<std::string> env;         // extra NAME=VALUE entries
  bool die_with_parent = false;         // SIGKILL the child when this process dies
  std::string start_hint;               // appended to a "cannot run" error: where to get or name it
};

struct ProcessResult {
  int exit_code = 0;                    // 128+N when killed by signal N
  std::string out;
};

// Runs argv[0] (looked up in PATH). An Error (Errc::not_found) only when it could not be
// started, naming the program and why; a non-zero exit is reported in exit_code.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& opts);

// Runs it and turns a non-zero exit into an Error naming the command and the log's tail.
Result<std::string> run_checked(const std::vector<std::string>& argv, const ProcessOptions& opts);

// Runs `command` with /bin/sh -c (shell text: every variable part quoted with shell_quote) and
// returns what it printed on stdout and stderr together. A non-zero exit is Errc::io
// "<what> failed (exit N): <the last 3000 characters of the output>".
Result<std::string> run_shell(const std::string& command, std::string_view what);

// "a b 'c d'": for messages and for --keep-work scripts.
std::string shell_join(const std::vector<std::string>& argv);
std::string shell_quote(const std::string& word);

// The last `lines` lines of a file (for error messages), each as `indent` + line + "\n".
std::string tail_of(const std::filesystem::path& file, int lines = 15, const std::string& indent = "    ");

}  // namespace noreboot
