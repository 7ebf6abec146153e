#include "agent/service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "agent/test_support.h"

namespace noreboot::agent {
namespace {

// A datagram socket standing in for systemd's notification socket.
struct Listener {
  explicit Listener(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Listener() { ::close(fd); }
  std::string receive() {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  int fd = -1;
  bool ok = false;
};

TEST(ServiceNotify, SendsOneDatagramToNotifySocket) {
  testing::TempDir dir;
  std::string path = (dir.path() / "notify").string();
  Listener l(path);
  ASSERT_TRUE(l.ok);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_TRUE(service_notify("READY=1\nSTATUS=idle"));
  EXPECT_EQ(l.receive(), "READY=1\nSTATUS=idle");
  ::setenv("NOTIFY_SOCKET", (dir.path() / "nobody-listens").c_str(), 1);
  EXPECT_FALSE(service_notify("READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(service_notify("READY=1"));  // not under systemd: nothing to do
}

TEST(ServiceNotify, WatchdogPeriodOnlyForThisProcess) {
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(service_watchdog_usec(), 0u);
  ::setenv("WATCHDOG_USEC", "120000000", 1);
  EXPECT_EQ(service_watchdog_usec(), 120000000u);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(service_watchdog_usec(), 120000000u);
  ::setenv("WATCHDOG_PID", "1", 1);  // meant for another process
  EXPECT_EQ(service_watchdog_usec(), 0u);
  ::setenv("WATCHDOG_PID", "", 1);
  ::setenv("WATCHDOG_USEC", "12x", 1);
  EXPECT_EQ(service_watchdog_usec(), 0u);
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
}

}  // namespace
}  // namespace noreboot::agent
