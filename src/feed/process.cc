// Running the programs the feed drives: see process.h.
#include "feed/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

namespace noreboot::feed {

Result<RunResult> run_program(const std::vector<std::string>& argv, const std::filesystem::path& log, bool capture) {
  int pipefd[2] = {-1, -1};
  if (capture && ::pipe2(pipefd, O_CLOEXEC) != 0) return Error(Errc::io, std::string("pipe: ") + std::strerror(errno));
  int logfd = -1;
  if (!log.empty()) {
    logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logfd < 0) return Error(Errc::io, log.string() + ": " + std::strerror(errno));
  }
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return Error(Errc::io, std::string("pipe: ") + std::strerror(errno));
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (capture) ::dup2(pipefd[1], 1);
    else if (logfd >= 0) ::dup2(logfd, 1);
    if (logfd >= 0) ::dup2(logfd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    int e = errno;
    ssize_t w = ::write(errpipe[1], &e, sizeof e);
    (void)w;
    ::_exit(127);
  }
  ::close(errpipe[1]);
  if (capture) ::close(pipefd[1]);
  if (logfd >= 0) ::close(logfd);
  RunResult r;
  if (capture) {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
  }
  int exec_errno = 0;
  ssize_t got = ::read(errpipe[0], &exec_errno, sizeof exec_errno);
  ::close(errpipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno))
    return Error(Errc::not_found, "cannot run '" + argv[0] + "': " + std::strerror(exec_errno) +
                                      " (install it, or name it under [tools] in the feed's config)");
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string log_tail(const std::filesystem::path& file, int lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "\n  " + l;
  return out;
}

}  // namespace noreboot::feed
