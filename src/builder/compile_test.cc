#include "builder/compile.h"

#include <gtest/gtest.h>

#include "core/process.h"

namespace noreboot::builder {
namespace {

TEST(FastCommand, RedirectsSourceOutputAndDeps) {
  Unit u{.source = "fs/proc/cmdline.c", .object = "fs/proc/cmdline.o",
         .command = "gcc-12 -Wp,-MMD,fs/proc/.cmdline.o.d -nostdinc -DKBUILD_MODNAME='\"proc\"' -c -o "
                    "fs/proc/cmdline.o fs/proc/cmdline.c   ; ./tools/objtool/objtool --orc   fs/proc/cmdline.o"};
  std::string c = fast_command(u, "/w/src-patched", "/w/patched/fs/proc/cmdline.o");
  EXPECT_EQ(c,
            "gcc-12 -Wp,-MMD,/w/patched/fs/proc/.cmdline.o.d -nostdinc -DKBUILD_MODNAME='\"proc\"' -c -o "
            "/w/patched/fs/proc/cmdline.o -iquote fs/proc -ffile-prefix-map=/w/src-patched/= "
            "/w/src-patched/fs/proc/cmdline.c   ; ./tools/objtool/objtool --orc   /w/patched/fs/proc/cmdline.o");
}

TEST(FastCommand, SearchesTheStagedCopyOfAChangedHeadersFolderFirst) {
  Unit u{.source = "fs/proc/base.c", .object = "fs/proc/base.o",
         .command = "gcc-12 -I./arch/x86/include -I./include -c -o fs/proc/base.o fs/proc/base.c"};
  std::string c = fast_command(u, "/w/src-patched", "/w/patched/fs/proc/base.o", "", {"include/linux/list.h"});
  EXPECT_EQ(c,
            "gcc-12 -I./arch/x86/include -I/w/src-patched/include -I./include -c -o /w/patched/fs/proc/base.o "
            "-iquote fs/proc -ffile-prefix-map=/w/src-patched/= -fdebug-prefix-map=/w/src-patched/include=./include "
            "/w/src-patched/fs/proc/base.c");
  // No changed header: the command is left as it was.
  EXPECT_EQ(fast_command(u, "/w/src-patched", "/w/patched/fs/proc/base.o", "", {"fs/proc/internal.h"}).find("-I/w/"),
            std::string::npos);
}

TEST(Process, ReportsExitCodesAndCapturesOutput) {
  auto r = run_process({"sh", "-c", "echo hi; exit 3"}, {.capture_stdout = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hi\n");
  auto missing = run_process({"/nonexistent/tool"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  auto failed = run_checked({"false"}, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("exit 1"), std::string::npos);
}

TEST(Process, ShellQuote) {
  EXPECT_EQ(shell_quote("abc/d.o"), "abc/d.o");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

}  // namespace
}  // namespace noreboot::builder
