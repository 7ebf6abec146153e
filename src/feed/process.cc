// Running the programs the feed drives: see process.h.
#include "feed/process.h"

#include "core/process.h"

namespace noreboot::feed {

Result<RunResult> run_program(const std::vector<std::string>& argv, const std::filesystem::path& log, bool capture) {
  ProcessOptions opts;
  opts.log = log;
  opts.capture_stdout = capture;
  opts.die_with_parent = true;
  auto r = run_process(argv, opts);
  if (!r) {
    if (r.error().code() != Errc::not_found) return r.error();
    return Error(Errc::not_found, r.error().message() + " (install it, or name it under [tools] in the feed's config)");
  }
  return RunResult{r->exit_code, std::move(r->out)};
}

std::string log_tail(const std::filesystem::path& file, int lines) {
  std::string tail = tail_of(file, lines, "  ");
  if (tail.empty()) return tail;
  tail.pop_back();  // tail_of ends each line with "\n"; the feed's messages put it first
  return "\n" + tail;
}

}  // namespace noreboot::feed
