// noreboot-klp's command line: per-object options attach to the --object before them, and
// every usage error names the argument.
#include "klp/cli.h"

#include <gtest/gtest.h>

namespace noreboot::klp {
namespace {

using Command = KlpCommandLine::Command;

std::string error_of(std::vector<std::string> args) {
  auto r = parse_klp_command_line(args);
  return r.ok() ? "(parsed)" : r.error().message();
}

TEST(KlpCli, ModuleOptionsBelongToTheObjectBeforeThem) {
  auto r = parse_klp_command_line({"module", "--abi", "6.1.0-1-amd64", "--name", "lp", "-o", "lp.ko",
                                   "--object", "a.o", "--func", "f1", "--func", "f2", "--local", "s=x.c",
                                   "--object", "b.o", "--target", "xfs", "--local", "t", "--kbuild"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->command, Command::module);
  EXPECT_EQ(r->module_name, "lp");
  EXPECT_EQ(r->output, "lp.ko");
  EXPECT_TRUE(r->kbuild);
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].path, "a.o");
  EXPECT_EQ(r->objects[0].input.target, "vmlinux");
  ASSERT_EQ(r->objects[0].input.functions.size(), 2u);
  EXPECT_EQ(r->objects[0].input.functions[1].name, "f2");
  EXPECT_EQ(r->objects[0].input.references.at("s").file, "x.c");
  EXPECT_EQ(r->objects[1].path, "b.o");
  EXPECT_EQ(r->objects[1].input.target, "xfs");
  EXPECT_TRUE(r->objects[1].input.references.at("t").local);
  EXPECT_TRUE(r->objects[1].input.functions.empty());
}

TEST(KlpCli, ResolveTakesALocalFlagAndAName) {
  auto r = parse_klp_command_line({"resolve", "--abi", "A", "--local", "--file", "padata.c", "cpumask_weight"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->command, Command::resolve);
  EXPECT_TRUE(r->local);
  EXPECT_EQ(r->file, "padata.c");
  EXPECT_EQ(r->symbol, "cpumask_weight");
}

TEST(KlpCli, UsageErrorsNameTheArgument) {
  EXPECT_EQ(error_of({}), "which command? index, resolve or module");
  EXPECT_EQ(error_of({"frob"}), "unknown command 'frob'");
  EXPECT_EQ(error_of({"index"}), "--abi is required");
  EXPECT_EQ(error_of({"index", "--abi"}), "option --abi needs a value");
  EXPECT_EQ(error_of({"index", "--abi", "A", "--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(error_of({"resolve", "--abi", "A"}), "NAME is required");
  EXPECT_EQ(error_of({"module", "--abi", "A", "--name", "n", "-o", "x.ko", "--func", "f", "--object", "a.o"}),
            "--func belongs to an object: give --object PATCH.o before it");
  EXPECT_EQ(error_of({"module", "--abi", "A", "--name", "n", "-o", "x.ko"}), "module needs at least one --object PATCH.o");
  EXPECT_EQ(error_of({"module", "--abi", "A", "--name", "n", "-o", "x.ko", "--object", "a.o", "--sign-key", "k.pem"}),
            "--sign-key and --sign-cert go together");
  auto help = parse_klp_command_line({"module", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->command, Command::help);
}

}  // namespace
}  // namespace noreboot::klp
