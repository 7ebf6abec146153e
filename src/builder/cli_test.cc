// noreboot-build's command line: the options of a build and of prepare, compile and
// header-index; usage errors name the argument and what it needs.
#include "builder/cli.h"

#include <gtest/gtest.h>

namespace noreboot::builder {
namespace {

std::string error_of(std::vector<std::string> args) {
  auto r = parse_build_command_line(args);
  return r.ok() ? "(parsed)" : r.error().message();
}

TEST(BuildCli, ABuildWithSeveralKernelsAndFixes) {
  auto r = parse_build_command_line({"--kernel", "debian:6.1.0-1-amd64", "--patch", "fix.patch", "-o", "out/",
                                     "--kernel=debian:current", "--fix", "CVE-2024-1:the race", "--sequence", "7",
                                     "--jobs", "3", "--work", "w", "--name", "lp_fix"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  const BuildConfig& c = r->config;
  EXPECT_EQ(r->command, "");
  EXPECT_EQ(c.kernel, "debian:6.1.0-1-amd64");
  EXPECT_EQ(c.kernels, (std::vector<std::string>{"debian:6.1.0-1-amd64", "debian:current"}));
  EXPECT_EQ(c.patch, "fix.patch");
  EXPECT_EQ(c.output, "out/");
  EXPECT_EQ(c.fixes, (std::vector<std::string>{"CVE-2024-1:the race"}));
  EXPECT_EQ(c.sequence, 7u);
  EXPECT_EQ(c.jobs, 3);
  EXPECT_EQ(c.keep_work, "w");
  EXPECT_EQ(c.name, "lp_fix");
}

TEST(BuildCli, CommandsTakeTheSameOptions) {
  auto p = parse_build_command_line({"prepare", "--kernel", "debian:current"});
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->command, "prepare");
  EXPECT_EQ(p->config.kernel, "debian:current");
  auto h = parse_build_command_line({"header-index", "--elf", "vmlinux", "--owner", "xfs"});
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->command, "header-index");
  EXPECT_EQ(h->elf, "vmlinux");
  EXPECT_EQ(h->owner, "xfs");
}

TEST(BuildCli, UsageErrorsNameTheArgument) {
  EXPECT_EQ(error_of({"--patch", "p", "--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(error_of({"frobnicate"}), "unknown command 'frobnicate'");
  EXPECT_EQ(error_of({"--kernel"}), "option --kernel needs debian:ABI, debian:current or debian:all");
  EXPECT_EQ(error_of({"--patch", "p", "-o"}), "option --output needs an output file");
  EXPECT_EQ(error_of({"--sequence", "seven"}), "--sequence 'seven' is not a valid number");
  EXPECT_EQ(error_of({"--sequence", "-1"}), "--sequence '-1' is not a valid number");
  EXPECT_EQ(error_of({"--jobs", "0"}), "--jobs '0' is not a valid number (1 to 64)");
  EXPECT_EQ(error_of({"--fix", "no colon"}), "--fix 'no colon': expected ID:text, e.g. CVE-2024-1234:fix the race in foo");
  EXPECT_EQ(error_of({"--module-sign-key", "k.pem"}),
            "--module-sign-key and --module-sign-cert go together (the kernel's sign-file needs both)");
  auto help = parse_build_command_line({"--kernel", "K", "-h"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
}

}  // namespace
}  // namespace noreboot::builder
