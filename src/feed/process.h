// Running the programs the feed drives (debian-fix, noreboot-build, noreboot-vm,
// noreboot-admin, apt-cache, kernel-fetch).
//
// Each child's stdout and stderr go to a log file in the version's folder (appended, so a
// resumed step keeps the history), or stdout is captured for the small outputs the feed
// parses. The child gets PR_SET_PDEATHSIG=SIGKILL: a feed killed mid-build takes its builder
// with it, so the next run never races an orphan writing into the folder it starts again.
// It is core's one runner (core/process.h) with die_with_parent; this file adds only the
// feed's hint for a program it cannot start and the feed's message layout.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace noreboot::feed {

struct RunResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string out;    // stdout, when captured
};

// log empty: stderr inherited. capture: stdout into RunResult::out (else into the log).
// An Error only when the program could not be started (named, with what to do).
Result<RunResult> run_program(const std::vector<std::string>& argv, const std::filesystem::path& log, bool capture);

// The last `lines` lines of a file, for messages.
std::string log_tail(const std::filesystem::path& file, int lines = 8);

}  // namespace noreboot::feed
