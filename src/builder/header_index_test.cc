// The header index's format and queries, and the line comparison that feeds them.
#include "builder/header_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "builder/header_units.h"

namespace noreboot::builder {
namespace {

// A header shaped like fs/proc/internal.h: a type, a one-line accessor, a helper, a macro.
const std::vector<std::string> kHeader = {
    "/* SPDX */",                                       // 1
    "struct proc_inode {",                              // 2
    "\tint pid;",                                       // 3
    "};",                                               // 4
    "",                                                 // 5
    "static inline struct proc_inode *PROC_I(const struct inode *inode)",  // 6
    "{",                                                // 7
    "\treturn container_of(inode, struct proc_inode, vfs_inode);",  // 8
    "}",                                                // 9
    "",                                                 // 10
    "static inline struct task_struct *",               // 11
    "get_proc_task(const struct inode *inode)",         // 12
    "{",                                                // 13
    "\tif (x) { /* } */",                               // 14
    "\t\treturn NULL; }",                               // 15
    "\treturn get_pid_task(PROC_I(inode)->pid, PIDTYPE_PID);",  // 16
    "}",                                                // 17
    "",                                                 // 18
    "#define PROC_NUMBUF 13",                           // 19
    "extern int proc_fill_super(void);",                // 20
};

HeaderIndex sample_index() {
  std::stringstream s;
  HeaderIndexWriter w(s);
  w.unit("vmlinux", "fs/proc/base.c");
  w.function("fs/proc/internal.h", 6, "PROC_I");
  w.function("fs/proc/internal.h", 12, "get_proc_task");
  w.function("fs/proc/internal.h", 20, "proc_fill_super");
  w.lines("fs/proc/internal.h", 16, 16);
  w.unit("vmlinux", "fs/proc/inode.c");
  w.function("fs/proc/internal.h", 6, "PROC_I");
  w.function("include/linux/list.h", 35, "list_del");
  w.unit("kernel/fs/nfsd/nfsd.ko", "fs/nfsd/nfsctl.c");
  w.lines("fs/proc/internal.h", 8, 8);  // a row without a function entry (only a line table)
  w.finish();
  auto index = read_header_index(s, {"fs/proc/internal.h"}, "test index");
  EXPECT_TRUE(index.ok()) << index.error().message();
  return *index;
}

std::vector<std::string> sources(const HeaderQuery& q) {
  std::vector<std::string> out;
  for (const auto& u : q.units) out.push_back(u.owner + ":" + u.source);
  return out;
}

TEST(HeaderIndex, WritesAndReadsOnlyTheWantedHeaders) {
  HeaderIndex index = sample_index();
  ASSERT_EQ(index.units.size(), 3u);
  EXPECT_EQ(index.units[2].owner, "kernel/fs/nfsd/nfsd.ko");
  ASSERT_EQ(index.headers.size(), 1u);  // list.h was not asked for
  const auto& facts = index.headers.at("fs/proc/internal.h");
  EXPECT_EQ(facts.functions.size(), 3u);
  EXPECT_EQ(facts.functions.at({6, "PROC_I"}).units.size(), 2u);
  EXPECT_EQ(facts.runs.size(), 2u);
}

TEST(HeaderIndex, RefusesATruncatedOrForeignFile) {
  std::stringstream truncated(std::string(kHeaderIndexMagic) + "\nu vmlinux a.c\n");
  auto r = read_header_index(truncated, {}, "idx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("incomplete"), std::string::npos);
  std::stringstream foreign("hello\n");
  EXPECT_FALSE(read_header_index(foreign, {}, "idx").ok());
}

TEST(HeaderIndex, FunctionSpanRunsFromReturnTypeToClosingBrace) {
  auto s = function_span(kHeader, "get_proc_task", 12);
  EXPECT_EQ(s.first, 11);  // the return type on the line before the name
  EXPECT_EQ(s.last, 17);   // braces in comments and nested blocks do not end it early
  auto p = function_span(kHeader, "PROC_I", 6);
  EXPECT_EQ(p.first, 6);
  EXPECT_EQ(p.last, 9);
  EXPECT_EQ(function_span(kHeader, "proc_fill_super", 20).first, 0);  // a prototype: no body
  EXPECT_EQ(function_span(kHeader, "get_proc_task", 3).first, 0);     // the name is not on that line
}

TEST(HeaderIndex, AChangedInlineFunctionReachesTheUnitsThatHoldIt) {
  HeaderIndex index = sample_index();
  // Line 8 (PROC_I's body): both units with a PROC_I entry, and the unit with a row at line 8.
  auto q = query_header(index, "fs/proc/internal.h", kHeader, {{8, 8, false}});
  EXPECT_TRUE(q.refusals.empty());
  EXPECT_EQ(sources(q), (std::vector<std::string>{"kernel/fs/nfsd/nfsd.ko:fs/nfsd/nfsctl.c", "vmlinux:fs/proc/base.c",
                                                  "vmlinux:fs/proc/inode.c"}));
  // An insertion inside get_proc_task (between 14 and 15): only base.c.
  q = query_header(index, "fs/proc/internal.h", kHeader, {{15, 14, false}});
  EXPECT_TRUE(q.refusals.empty());
  EXPECT_EQ(sources(q), (std::vector<std::string>{"vmlinux:fs/proc/base.c"}));
}

TEST(HeaderIndex, MacroTypeAndPrototypeChangesAreRefusedWithTheirLines) {
  HeaderIndex index = sample_index();
  for (LineChange c : {LineChange{19, 19, false}, LineChange{3, 3, false}, LineChange{20, 20, false},
                       LineChange{10, 10, false} /* a new line between functions */}) {
    auto q = query_header(index, "fs/proc/internal.h", kHeader, {c});
    ASSERT_EQ(q.refusals.size(), 1u) << c.first;
    EXPECT_NE(q.refusals[0].find("fs/proc/internal.h"), std::string::npos);
    EXPECT_NE(q.refusals[0].find("not inside the body of a function"), std::string::npos);
  }
  // A change that starts in a function and runs past its end is refused too.
  EXPECT_EQ(query_header(index, "fs/proc/internal.h", kHeader, {{16, 19, false}}).refusals.size(), 1u);
}

TEST(HeaderIndex, CommentOnlyChangesOutsideFunctionsAreNotRefused) {
  HeaderIndex index = sample_index();
  auto q = query_header(index, "fs/proc/internal.h", kHeader, {{5, 4, true}});  // blank lines inserted
  EXPECT_TRUE(q.refusals.empty());
  EXPECT_TRUE(q.units.empty());
}

TEST(HeaderIndex, ChangedLinesFindsReplacementsAndInsertions) {
  std::vector<std::string> a = {"a", "b", "c", "d", "e"};
  auto c = changed_lines(a, {"a", "B", "c", "d", "e"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, 2);
  EXPECT_EQ(c[0].last, 2);
  EXPECT_FALSE(c[0].only_comments);
  c = changed_lines(a, {"a", "b", "", "/* x */", "c", "d", "e"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, 3);  // inserted between 2 and 3
  EXPECT_EQ(c[0].last, 2);
  EXPECT_TRUE(c[0].only_comments);
  c = changed_lines(a, {"a", "c", "d", "x", "e"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].first, 2);  // b removed
  EXPECT_EQ(c[0].last, 2);
  EXPECT_EQ(c[1].first, 5);  // x inserted after d
  EXPECT_EQ(c[1].last, 4);
  EXPECT_TRUE(changed_lines(a, a).empty());
}

TEST(HeaderUnits, StagedHeaderGivesTheCandidateSourcesWithoutGeneratedMetadata) {
  namespace fs = std::filesystem;
  fs::path work = fs::temp_directory_path() / ("nr-header-units-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(work);
  fs::create_directories(work / "src-orig/fs/proc");
  fs::create_directories(work / "src-patched/fs/proc");
  std::ofstream(work / "src-orig/fs/proc/internal.h") << "static inline int f(void)\n{\n\treturn 1;\n}\n#define X 1\n";
  std::ofstream(work / "src-patched/fs/proc/internal.h") << "static inline int f(void)\n{\n\treturn 2;\n}\n#define X 1\n";
  {
    std::ofstream idx(work / "index");
    HeaderIndexWriter w(idx);
    w.unit("vmlinux", "fs/proc/base.c");
    w.function("fs/proc/internal.h", 1, "f");
    w.unit("kernel/fs/x.ko", "fs/x.mod.c");  // generated module metadata: left out
    w.function("fs/proc/internal.h", 1, "f");
    w.unit("vmlinux", "fs/proc/root.c");     // does not use f
    w.finish();
  }
  KernelProfile profile;  // no tree: a function change needs none
  auto r = units_for_headers(profile, work / "index", {"fs/proc/internal.h"}, work, {});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->refusals.empty());
  EXPECT_EQ(r->sources, (std::vector<std::string>{"fs/proc/base.c"}));
  // A struct definition changed instead: refused (the layout of live data), nothing compiled.
  std::ofstream(work / "src-orig/fs/proc/internal.h") << "struct s {\n\tint a;\n};\n#define X 1\n";
  std::ofstream(work / "src-patched/fs/proc/internal.h") << "struct s {\n\tlong a;\n};\n#define X 1\n";
  r = units_for_headers(profile, work / "index", {"fs/proc/internal.h"}, work, {});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->refusals.size(), 1u);
  EXPECT_EQ(r->refusals[0].what, "fs/proc/internal.h");
  EXPECT_NE(r->refusals[0].reason.find("line 2 of fs/proc/internal.h change the definition of struct s (lines 1-3)"),
            std::string::npos) << r->refusals[0].reason;
  EXPECT_TRUE(r->sources.empty());
  fs::remove_all(work);
}

}  // namespace
}  // namespace noreboot::builder
