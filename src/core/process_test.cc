// The one child-process runner (core/process.h): start failures told apart from exits,
// capture and log, a child that dies with its parent.
#include "core/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace noreboot {
namespace {

std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("nr_process_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(d);
  return d;
}

// The state letter of /proc/PID/stat ('Z' for a zombie), or 0.
char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() ? line[close + 2] : 0;
}

TEST(Process, CapturesStdoutAndAppendsStderrToTheLog) {
  auto d = temp_dir();
  ProcessOptions o;
  o.capture_stdout = true;
  o.log = d / "log";
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(tail_of(d / "log"), "    err\n");
  ASSERT_TRUE(run_process({"sh", "-c", "echo again >&2"}, o));
  EXPECT_EQ(tail_of(d / "log", 15, "> "), "> err\n> again\n");  // appended, not truncated
  std::filesystem::remove_all(d);
}

TEST(Process, AProgramThatExits127IsAnExitNotAStartFailure) {
  auto r = run_process({"sh", "-c", "exit 127"}, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 127);
}

TEST(Process, StartFailuresNameTheProgramOrTheFolder) {
  auto missing = run_process({"nr-no-such-program-here"}, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("cannot run 'nr-no-such-program-here'"), std::string::npos);
  EXPECT_NE(missing.error().message().find("not on PATH"), std::string::npos);
  ProcessOptions o;
  o.cwd = "/nonexistent-nr-folder";
  auto nofolder = run_process({"true"}, o);
  ASSERT_FALSE(nofolder);
  EXPECT_NE(nofolder.error().message().find("cannot enter folder /nonexistent-nr-folder"), std::string::npos);
}

TEST(Process, RunCheckedNamesTheCommandAndTheLogTail) {
  auto d = temp_dir();
  ProcessOptions o;
  o.log = d / "log";
  auto r = run_checked({"sh", "-c", "echo the reason >&2; exit 2"}, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("exit 2"), std::string::npos);
  EXPECT_NE(r.error().message().find("the reason"), std::string::npos);
  std::filesystem::remove_all(d);
}

// A child started with die_with_parent is killed when the process that started it dies: here
// a forked intermediate runs `sleep 600` that way and is then SIGKILLed; the sleep must go too.
TEST(Process, DieWithParentTakesTheChildAlong) {
  auto d = temp_dir();
  auto pidfile = d / "pid";
  pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    ProcessOptions o;
    o.die_with_parent = true;
    (void)run_process({"sh", "-c", "echo $$ > " + pidfile.string() + "; exec sleep 600"}, o);
    _exit(0);
  }
  pid_t child = 0;
  for (int i = 0; i < 600 && child == 0; ++i) {  // up to 60 s on a busy machine
    std::ifstream in(pidfile);
    if (!(in >> child)) child = 0;
    if (child == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(child, 0);
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 600 && !gone; ++i) {
    gone = kill(child, 0) != 0 || state_of(child) == 'Z';  // dead, maybe not yet reaped by init
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "sleep " << child << " outlived its parent";
  if (!gone) kill(child, SIGKILL);
  std::filesystem::remove_all(d);
}

TEST(Process, RunShellCapturesStdoutAndStderrTogether) {
  auto r = run_shell("echo out; echo err >&2", "two lines");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "out\nerr\n");
}

TEST(Process, RunShellFailureNamesTheStepTheExitAndTheOutput) {
  auto r = run_shell("echo what went wrong >&2; exit 4", "linking the module");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_EQ(r.error().message(), "linking the module failed (exit 4): what went wrong\n");
}

TEST(Process, AStartHintFollowsTheCannotRunError) {
  ProcessOptions o;
  o.start_hint = "name it under [tools]";
  auto r = run_process({"no-such-program-noreboot"}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::not_found);
  EXPECT_NE(r.error().message().find("(not installed or not on PATH) (name it under [tools])"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace noreboot
