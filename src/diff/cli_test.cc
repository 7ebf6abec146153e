// `noreboot-build diff`'s command line: two files, --json, -o; usage errors name the argument.
#include "diff/cli.h"

#include <gtest/gtest.h>

namespace noreboot::diff {
namespace {

std::string error_of(std::vector<std::string> args) {
  auto r = parse_diff_command_line(args);
  return r.ok() ? "(parsed)" : r.error().message();
}

TEST(DiffCli, FilesAndOptionsInAnyOrder) {
  auto r = parse_diff_command_line({"--json", "a.o", "-o", "out.o", "b.o"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->json);
  EXPECT_EQ(r->output, "out.o");
  EXPECT_EQ(r->files, (std::vector<std::string>{"a.o", "b.o"}));
  auto l = parse_diff_command_line({"a.o", "b.o", "--output=x.o"});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->output, "x.o");
}

TEST(DiffCli, UsageErrorsNameTheArgument) {
  EXPECT_EQ(error_of({"a.o"}), "expected ORIG.o and PATCHED.o, got 1 file(s)");
  EXPECT_EQ(error_of({"a.o", "b.o", "c.o"}), "expected ORIG.o and PATCHED.o, got 3 file(s)");
  EXPECT_EQ(error_of({"a.o", "b.o", "--frobnicate"}), "unknown option '--frobnicate'");
  EXPECT_EQ(error_of({"a.o", "b.o", "-o"}), "option --output needs a value");
  auto help = parse_diff_command_line({"a.o", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
}

}  // namespace
}  // namespace noreboot::diff
