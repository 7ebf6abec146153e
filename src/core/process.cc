// The child-process runner: see process.h.
#include "core/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

namespace noreboot {

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_-./=:,+@%") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(a);
  }
  return out;
}

std::string tail_of(const std::filesystem::path& file, int lines, const std::string& indent) {
  std::ifstream in(file);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += indent + l + "\n";
  return out;
}

namespace {

// What the child tells the parent through the close-on-exec pipe when it cannot exec.
struct StartFailure {
  int step;  // 1: entering cwd, 2: exec
  int err;
};

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  if (argv.empty()) return Error(Errc::internal, "run_process: empty command");
  int out_pipe[2] = {-1, -1};
  if (opts.capture_stdout && pipe2(out_pipe, O_CLOEXEC) != 0)
    return Error(Errc::io, std::string("pipe: ") + std::strerror(errno));
  int log_fd = -1;
  if (!opts.log.empty()) {
    log_fd = ::open(opts.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
      return Error(Errc::io, "cannot open log " + opts.log.string() + ": " + std::strerror(errno));
  }
  int start_pipe[2];
  if (pipe2(start_pipe, O_CLOEXEC) != 0) return Error(Errc::io, std::string("pipe: ") + std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store = opts.env;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Error(Errc::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (opts.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    }
    int in = ::open(opts.stdin_file.empty() ? "/dev/null" : opts.stdin_file.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, 0);
    if (log_fd >= 0) {
      dup2(log_fd, 2);
      if (!opts.capture_stdout) dup2(log_fd, 1);
    }
    if (opts.capture_stdout) dup2(out_pipe[1], 1);
    StartFailure f{0, 0};
    if (!opts.cwd.empty() && chdir(opts.cwd.c_str()) != 0) {
      f = {1, errno};
    } else {
      for (auto& e : env_store) putenv(e.data());
      execvp(args[0], args.data());
      f = {2, errno};
    }
    ssize_t w = write(start_pipe[1], &f, sizeof f);
    (void)w;
    _exit(127);
  }
  ::close(start_pipe[1]);
  if (log_fd >= 0) ::close(log_fd);
  ProcessResult result;
  if (opts.capture_stdout) {
    ::close(out_pipe[1]);
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      result.out.append(buf, static_cast<size_t>(n));
    }
    ::close(out_pipe[0]);
  }
  StartFailure failure{0, 0};
  ssize_t got;
  while ((got = ::read(start_pipe[0], &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(start_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error(Errc::io, std::string("waitpid: ") + std::strerror(errno));
  }
  if (got == static_cast<ssize_t>(sizeof failure) && failure.step == 1)
    return Error(Errc::not_found, "cannot enter folder " + opts.cwd.string() + " to run " + argv[0] + ": " +
                                      std::strerror(failure.err));
  if (got == static_cast<ssize_t>(sizeof failure) && failure.step == 2)
    return Error(Errc::not_found, "cannot run '" + argv[0] + "': " + std::strerror(failure.err) +
                                      (failure.err == ENOENT ? " (not installed or not on PATH)" : "") +
                                      (opts.start_hint.empty() ? "" : " (" + opts.start_hint + ")"));
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  NR_TRY(auto r, run_process(argv, opts));
  if (r.exit_code != 0) {
    std::string msg = "command failed (exit " + std::to_string(r.exit_code) + "): " + shell_join(argv);
    if (!opts.cwd.empty()) msg += "\n  in " + opts.cwd.string();
    if (!opts.log.empty()) msg += "\n  last lines of " + opts.log.string() + ":\n" + tail_of(opts.log);
    return Error(Errc::unavailable, msg);
  }
  return std::move(r.out);
}

Result<std::string> run_shell(const std::string& command, std::string_view what) {
  ProcessOptions opts;
  opts.capture_stdout = true;
  auto r = run_process({"/bin/sh", "-c", "( " + command + " ) 2>&1"}, opts);
  if (!r) return Error(Errc::io, std::string(what) + ": cannot start: " + r.error().message());
  if (r->exit_code != 0) {
    const std::string& out = r->out;
    std::string tail = out.size() > 3000 ? "..." + out.substr(out.size() - 3000) : out;
    return Error(Errc::io, std::string(what) + " failed (exit " + std::to_string(r->exit_code) + "): " + tail);
  }
  return std::move(r->out);
}

}  // namespace noreboot
