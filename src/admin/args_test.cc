#include "admin/args.h"

#include <gtest/gtest.h>

#include "admin/command.h"

namespace noreboot::admin {
namespace {

const std::vector<OptionSpec> kSpecs = {{"trust", 0, true, true}, {"output", 'o'}, {"json", 0, false}};

Result<ParsedArgs> parse(std::vector<std::string> v) { return parse_args(v, kSpecs); }

TEST(Args, ValuesFlagsPositionals) {
  auto a = parse({"--trust", "a.pub", "--trust=b.pub", "-o", "out", "--json", "x.nrp"});
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->all("trust"), (std::vector<std::string>{"a.pub", "b.pub"}));
  EXPECT_EQ(a->value("output"), "out");
  EXPECT_TRUE(a->flag("json"));
  EXPECT_EQ(a->positional, (std::vector<std::string>{"x.nrp"}));
}

TEST(Args, Errors) {
  EXPECT_NE(parse({"--nope"}).error().message().find("unknown option '--nope'"), std::string::npos);
  EXPECT_NE(parse({"-o"}).error().message().find("needs a value"), std::string::npos);
  EXPECT_NE(parse({"-o", "a", "-o", "b"}).error().message().find("more than once"), std::string::npos);
  EXPECT_NE(parse({"--json=1"}).error().message().find("takes no value"), std::string::npos);
}

TEST(Args, ErrorsNameTheArgument) {
  EXPECT_EQ(parse({"x.nrp", "-q"}).error().message(), "unknown option '-q'");
  EXPECT_EQ(parse({"--trust"}).error().message(), "option --trust needs a value");
  EXPECT_EQ(parse({"-o", "a", "--output=b"}).error().message(), "option --output given more than once");
  EXPECT_EQ(parse({"--json=1"}).error().message(), "option --json takes no value");
}

TEST(Args, HelpWinsOverEverythingElse) {
  auto a = parse({"--nope", "x.nrp", "--help"});
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_TRUE(a->help);
  auto b = parse({"-h"});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->help);
}

TEST(Args, AValueIsTakenAsItIs) {
  auto a = parse({"-o", "-", "--trust", "-weird.pub", "-"});
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->value("output"), "-");
  EXPECT_EQ(a->all("trust"), (std::vector<std::string>{"-weird.pub"}));
  EXPECT_EQ(a->positional, (std::vector<std::string>{"-"}));
}

TEST(Args, DoubleDashEndsOptions) {
  auto a = parse({"--", "--json"});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->flag("json"));
  EXPECT_EQ(a->positional, (std::vector<std::string>{"--json"}));
}

TEST(Args, ExitCodes) {
  EXPECT_EQ(exit_code_for(Error(Errc::invalid_argument, "")), 2);
  EXPECT_EQ(exit_code_for(Error(Errc::signature, "")), 3);
  EXPECT_EQ(exit_code_for(Error(Errc::io, "")), 1);
}

}  // namespace
}  // namespace noreboot::admin
