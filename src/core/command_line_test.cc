// parse_command_line: the contract every tool's command line relies on (command_line.h), and
// the translation of CLI11's wording, pinned so that a newer CLI11 shows up here.
#include "core/command_line.h"

#include <gtest/gtest.h>

namespace noreboot::cli {
namespace {

struct Tool {
  App app{"tool"};
  std::vector<std::string> trust, files;
  std::string output;
  bool json = false;
  std::optional<std::uint64_t> jobs;
  std::string kernel;
  Tool() {
    app.add_list("--trust", trust);
    app.add_option("-o,--output", output);
    app.add_flag("--json", json)->disable_flag_override();
    app.add_number("--jobs", jobs);
    app.add_option("--kernel", kernel)->type_name("debian:ABI");
    app.add_option("files", files);
  }
  Result<CommandLine> parse(std::vector<std::string> args) { return parse_command_line(app, args); }
};

std::string error_of(Result<CommandLine> r) { return r.ok() ? "(parsed)" : r.error().message(); }

TEST(CommandLine, ValuesListsFlagsAndPositionalsInAnyOrder) {
  Tool t;
  auto r = t.parse({"--trust", "a.pub", "x.nrp", "--trust=b.pub", "-o", "out", "--json", "--jobs", "4", "y.nrp"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, CommandLine::run);
  EXPECT_EQ(t.trust, (std::vector<std::string>{"a.pub", "b.pub"}));
  EXPECT_EQ(t.files, (std::vector<std::string>{"x.nrp", "y.nrp"}));
  EXPECT_EQ(t.output, "out");
  EXPECT_TRUE(t.json);
  EXPECT_EQ(t.jobs, 4u);
}

TEST(CommandLine, AValueOptionTakesOneWordAndTheLastCounts) {
  Tool t;
  ASSERT_TRUE(t.parse({"-o", "a", "-o", "b", "c", "--trust", "-dash-file"}).ok());
  EXPECT_EQ(t.output, "b");
  EXPECT_EQ(t.files, (std::vector<std::string>{"c"}));
  EXPECT_EQ(t.trust, (std::vector<std::string>{"-dash-file"}));
}

TEST(CommandLine, UsageErrorsNameTheArgument) {
  for (auto [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--nope", "x"}, "unknown option '--nope'"},
           {{"-o"}, "option --output needs a value"},
           {{"x", "--trust"}, "option --trust needs a value"},
           {{"--json=1"}, "option --json takes no value"},
           {{"--jobs", "many"}, "--jobs 'many' is not a valid number"},
           {{"--jobs", "-1"}, "--jobs '-1' is not a valid number"},
           {{"--jobs=0x10"}, "--jobs '0x10' is not a valid number"},
           {{"--kernel"}, "option --kernel needs debian:ABI"},
       }) {
    Tool t;
    auto r = t.parse(args);
    ASSERT_FALSE(r.ok()) << want;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    EXPECT_EQ(r.error().message(), want);
  }
}

TEST(CommandLine, DoubleDashEndsTheOptions) {
  Tool t;
  ASSERT_TRUE(t.parse({"--", "--json"}).ok());
  EXPECT_FALSE(t.json);
  EXPECT_EQ(t.files, (std::vector<std::string>{"--json"}));
}

TEST(CommandLine, HelpWinsOverArgumentsThatWouldBeRefused) {
  for (auto args : std::vector<std::vector<std::string>>{{"--bogus", "-h"}, {"x", "--help"}, {"-o", "out", "-h"}}) {
    Tool t;
    auto r = t.parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, CommandLine::help);
  }
}

// A tool with one command, run: each case parses a fresh one.
struct ToolWithCommand {
  App app{"tool"};
  bool once = false;
  App* run = app.add_subcommand("run", "");
  ToolWithCommand() { run->add_flag("--once", once); }
  Result<CommandLine> parse(std::vector<std::string> args) { return parse_command_line(app, args); }
};

TEST(CommandLine, CommandsAndStrayWords) {
  EXPECT_EQ(error_of(ToolWithCommand().parse({"frobnicate"})), "unknown command 'frobnicate'");
  EXPECT_EQ(error_of(ToolWithCommand().parse({"run", "extra"})), "unexpected argument 'extra'");
  EXPECT_EQ(error_of(ToolWithCommand().parse({"run", "--twice"})), "unknown option '--twice'");
  EXPECT_EQ(error_of(ToolWithCommand().parse({"run", "run"})), "unexpected argument 'run'");
  ToolWithCommand t;
  ASSERT_TRUE(t.parse({"run", "--once"}).ok());
  EXPECT_TRUE(t.once);
  EXPECT_TRUE(t.run->parsed());
  EXPECT_EQ(t.app.chosen_subcommand(), "run");
  ToolWithCommand none;
  ASSERT_TRUE(none.parse({}).ok());
  EXPECT_FALSE(none.run->parsed());
  EXPECT_EQ(none.app.chosen_subcommand(), "");
}

// add_each: every occurrence, in command-line order, interleaved with the other options.
TEST(CommandLine, EachOccurrenceInOrder) {
  App app{"tool"};
  std::vector<std::string> seen;
  app.add_each("--object", [&](const std::string& v) { seen.push_back("object " + v); });
  app.add_each("--func", [&](const std::string& v) { seen.push_back("func " + v); });
  ASSERT_TRUE(parse_command_line(app, std::vector<std::string>{"--object", "a.o", "--func", "f", "--object=b.o", "--func", "g"}).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"object a.o", "func f", "object b.o", "func g"}));
}

TEST(CommandLine, ARequiredOptionIsNamedWhenMissing) {
  App app{"tool"};
  std::string abi;
  app.add_option("--abi", abi)->required();
  auto r = parse_command_line(app, std::vector<std::string>{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find("--abi"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace noreboot::cli
