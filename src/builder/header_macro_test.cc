// The pieces of the macro path that need no kernel: the include graph's edges and closure,
// type definitions in a header, and the comparison of preprocessed text.
#include <gtest/gtest.h>

#include "builder/header_macro.h"
#include "builder/include_graph.h"

namespace noreboot::builder {
namespace {

TEST(IncludeGraph, ScansDirectivesAndIncludeNamesInDefinitions) {
  auto edges = scan_include_edges(
      "#include <linux/list.h>\n"
      "  #  include_next \"internal.h\" /* x */\n"
      "#include \"../proc/internal.h\"\n"
      "#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n"
      "#define GENL_MAGIC_INCLUDE_FILE <linux/drbd_genl.h>\n"
      "#define TRACE_INCLUDE_FILE nfs4trace\n"
      "#define NOT_A_FILE \"hello\"\n"
      "int include = 1; // #include <not/a/directive.h> after code\n");
  ASSERT_EQ(edges.size(), 5u);
  EXPECT_EQ(edges[0].spelled, "linux/list.h");
  EXPECT_FALSE(edges[0].quoted);
  EXPECT_EQ(edges[1].spelled, "internal.h");
  EXPECT_TRUE(edges[1].quoted);
  EXPECT_TRUE(edges[2].name_only);  // ".." may land anywhere a -I path allows
  EXPECT_EQ(edges[3].spelled, "linux/drbd_genl.h");
  EXPECT_EQ(edges[4].spelled, "nfs4trace.h");
  EXPECT_TRUE(edges[4].name_only);
}

TEST(IncludeGraph, ForcedIncludesOfMakefilesButNotMakesOwnInclude) {
  auto f = scan_forced_includes(
      "-include include/config/auto.conf\n"
      "USERINCLUDE := \\\n"
      "\t\t-include $(srctree)/include/linux/kconfig.h\n"
      "ccflags-y += -imacros $(src)/local.h\n");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], "kconfig.h");
  EXPECT_EQ(f[1], "local.h");
}

IncludeGraph small_graph() {
  IncludeGraph g;
  auto add = [&](const std::string& file, std::vector<IncludeEdge> e) {
    g.files.push_back(file);
    g.edges.push_back(std::move(e));
    g.exists.insert(file);
  };
  add("fs/proc/internal.h", {});
  add("fs/proc/base.c", {{"internal.h", true, false}});
  add("fs/proc_namespace.c", {{"proc/internal.h", true, false}});
  add("fs/ext4/internal.h", {});
  add("fs/ext4/inode.c", {{"internal.h", true, false}});      // found next to it: ext4's
  add("drivers/x/y.c", {{"internal.h", true, false}});        // none next to it: any -I path
  add("drivers/x/z.c", {{"y.c", true, false}});               // a unit that includes a unit
  add("include/linux/seq_file.h", {});
  add("kernel/a.c", {{"linux/seq_file.h", false, false}});
  add("top.c", {});
  return g;
}

TEST(IncludeGraph, ReverseClosureIsASupersetWithoutForeignNeighbours) {
  auto g = small_graph();
  auto r = files_reaching(g, "fs/proc/internal.h");
  EXPECT_TRUE(r.files.count("fs/proc/base.c"));
  EXPECT_TRUE(r.files.count("fs/proc_namespace.c"));
  EXPECT_TRUE(r.files.count("drivers/x/y.c"));
  EXPECT_TRUE(r.files.count("drivers/x/z.c"));
  EXPECT_FALSE(r.files.count("fs/ext4/inode.c"));
  EXPECT_FALSE(r.files.count("kernel/a.c"));
  EXPECT_TRUE(r.forced.empty());
}

TEST(IncludeGraph, AForcedIncludeReachesEveryFileUnderItsFolder) {
  auto g = small_graph();
  g.forced.push_back({"fs", "seq_file.h", "fs/Makefile"});
  auto r = files_reaching(g, "include/linux/seq_file.h");
  EXPECT_TRUE(r.files.count("kernel/a.c"));
  EXPECT_TRUE(r.files.count("fs/ext4/inode.c"));
  EXPECT_FALSE(r.files.count("drivers/x/y.c"));
  ASSERT_EQ(r.forced.size(), 1u);
}

TEST(HeaderMacro, TypeSpansAreStructUnionEnumDefinitionsOnly) {
  std::vector<std::string> text = {
      "#define FOO { 1, 2 }",                    // 1: a macro's braces
      "struct proc_dir_entry {",                 // 2
      "\tint x;",                                // 3
      "};",                                      // 4
      "static const struct foo bar[] = {",       // 5: data
      "\t{ 1 },",                                // 6
      "};",                                      // 7
      "static inline int f(struct foo *p)",      // 8: a function
      "{",                                       // 9
      "\treturn 0;",                             // 10
      "}",                                       // 11
      "typedef enum {",                          // 12
      "\tA, B",                                  // 13
      "} ab_t;",                                 // 14
      "struct fwd;",                             // 15
  };
  auto t = type_spans(text);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "struct proc_dir_entry");
  EXPECT_EQ(t[0].first, 2);
  EXPECT_EQ(t[0].last, 4);
  EXPECT_EQ(t[1].first, 12);
  EXPECT_EQ(t[1].last, 14);
}

TEST(HeaderMacro, PreprocessedTextWithoutTheCopyFolder) {
  EXPECT_EQ(without_root("# 1 \"/w/src-orig/fs/proc/base.c\"\nx /w/src-orig/y", "/w/src-orig"), "# 1 \"fs/proc/base.c\"\nx y");
  std::string patched = "# 1 \"/w/src-patched/fs/proc/base.c\"\n# 1 \"/w/src-patched/fs/proc/internal.h\" 1\nint a;\n";
  EXPECT_FALSE(names_tree_copy(patched, "fs/proc/internal.h"));
  EXPECT_TRUE(names_tree_copy(patched + "# 3 \"fs/proc/../proc/internal.h\" 2\n", "fs/proc/internal.h"));
  EXPECT_TRUE(names_tree_copy("# 1 \"./fs/proc/internal.h\" 1\n", "fs/proc/internal.h"));
}

}  // namespace
}  // namespace noreboot::builder
