// The include graph kept between builds (include_graph_cache.h): its file round-trips, a second
// scan reads only what changed, and a cache file that is corrupt, truncated, of another tree or
// of another format is rebuilt, never trusted.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "builder/include_graph_cache.h"
#include "core/file_io.h"

namespace noreboot::builder {
namespace {
namespace fs = std::filesystem;

class GraphCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("nr-graph-cache-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    tree = dir / "tree";
    fs::create_directories(tree / "fs/proc");
    fs::create_directories(tree / "include/linux");
    fs::create_directories(tree / "scripts");
    put("fs/proc/internal.h", "#include <linux/list.h>\n");
    put("fs/proc/base.c", "#include \"internal.h\"\n");
    put("fs/proc/root.c", "#include <linux/fs.h>\n#include \"table.uc\"\n");
    put("fs/proc/table.uc", "#include \"internal.h\"\n");  // not C text: read because a directive names it
    put("include/linux/list.h", "\n");
    put("include/linux/fs.h", "\n");
    put("scripts/Makefile.lib", "c_flags = -include $(srctree)/include/linux/compiler_types.h\n");
    cache = dir / "include-graph";
  }
  void TearDown() override { fs::remove_all(dir); }
  void put(const std::string& rel, const std::string& text) { std::ofstream(tree / rel, std::ios::trunc) << text; }
  std::vector<std::string> reaching(const IncludeGraph& g, const std::string& header) {
    auto r = files_reaching(g, header);
    std::vector<std::string> out(r.files.begin(), r.files.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir, tree, cache;
  const std::string key = "tree|6.1.0-57-amd64 6.1.192-3|1";
};

TEST_F(GraphCache, TheFileRoundTrips) {
  auto g = scan_include_graph(tree, 2);
  ASSERT_TRUE(g.ok()) << g.error().message();
  auto back = parse_include_graph(include_graph_text(*g, key), key, "cache");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->files, g->files);
  ASSERT_EQ(back->edges.size(), g->edges.size());
  for (size_t k = 0; k < g->edges.size(); ++k) {
    ASSERT_EQ(back->edges[k].size(), g->edges[k].size()) << g->files[k];
    for (size_t e = 0; e < g->edges[k].size(); ++e) {
      EXPECT_EQ(back->edges[k][e].spelled, g->edges[k][e].spelled);
      EXPECT_EQ(back->edges[k][e].quoted, g->edges[k][e].quoted);
      EXPECT_EQ(back->edges[k][e].name_only, g->edges[k][e].name_only);
    }
  }
  EXPECT_EQ(back->stamps, g->stamps);
  ASSERT_EQ(back->forced.size(), 1u);
  EXPECT_EQ(back->forced[0].name, "compiler_types.h");
  EXPECT_EQ(back->forced[0].dir, "");  // a Makefile under scripts/: every unit
}

TEST_F(GraphCache, ASecondScanReusesTheCacheAndRereadsOnlyWhatChanged) {
  GraphCacheUse use;
  auto first = load_or_scan_include_graph(tree, cache, key, 2, &use);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_FALSE(use.cached);
  EXPECT_TRUE(use.written);
  EXPECT_EQ(use.scan.read, 7u);  // 5 C files, table.uc, Makefile.lib
  EXPECT_EQ(use.scan.reused, 0u);
  ASSERT_TRUE(fs::exists(cache));
  auto written = read_text(cache);
  ASSERT_TRUE(written.ok());

  auto second = load_or_scan_include_graph(tree, cache, key, 2, &use);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_TRUE(use.cached);
  EXPECT_EQ(use.scan.read, 0u);
  EXPECT_EQ(use.scan.reused, 7u);
  EXPECT_FALSE(use.written);  // nothing changed: the file stays as it was
  EXPECT_EQ(*read_text(cache), *written);
  EXPECT_EQ(reaching(*second, "include/linux/list.h"), reaching(*first, "include/linux/list.h"));
  EXPECT_EQ(reaching(*second, "include/linux/list.h"),
            (std::vector<std::string>{"fs/proc/base.c", "fs/proc/internal.h", "fs/proc/root.c", "fs/proc/table.uc",
                                      "include/linux/list.h"}));

  // A changed file and a new one (as Kbuild generates *.asn1.c): only those are read.
  put("fs/proc/base.c", "#include <linux/fs.h>\n");
  put("fs/proc/generated.c", "#include \"internal.h\"\n");
  auto third = load_or_scan_include_graph(tree, cache, key, 2, &use);
  ASSERT_TRUE(third.ok()) << third.error().message();
  EXPECT_TRUE(use.cached);
  EXPECT_EQ(use.scan.read, 2u);
  EXPECT_TRUE(use.written);
  EXPECT_EQ(reaching(*third, "include/linux/list.h"),
            (std::vector<std::string>{"fs/proc/generated.c", "fs/proc/internal.h", "fs/proc/root.c", "fs/proc/table.uc",
                                      "include/linux/list.h"}));
  // The rewritten cache knows them: the next scan reads nothing.
  ASSERT_TRUE(load_or_scan_include_graph(tree, cache, key, 2, &use).ok());
  EXPECT_EQ(use.scan.read, 0u);
}

TEST_F(GraphCache, ACorruptTruncatedForeignOrOldCacheIsRebuiltNotTrusted) {
  GraphCacheUse use;
  ASSERT_TRUE(load_or_scan_include_graph(tree, cache, key, 2, &use).ok());
  std::string good = *read_text(cache);
  // A cache that would hide base.c's include of internal.h if it were trusted (totals intact).
  std::string lying = good;
  auto at = lying.find("e q internal.h\n");
  ASSERT_NE(at, std::string::npos);
  lying.replace(at, 15, "e q internal.x\n");
  std::string truncated = good.substr(0, good.rfind("end "));
  std::string other_key = good;
  other_key.replace(other_key.find(key), key.size(), "tree|6.1.0-56-amd64 6.1.192-2|1");
  std::string old_format = good;
  old_format.replace(0, std::string(kIncludeGraphMagic).size(), "noreboot-include-graph 0");
  std::string cut_line = good.substr(0, good.size() - 1);  // no final newline
  struct Case {
    std::string name, text, why;
  };
  for (const auto& c : std::vector<Case>{{"a changed record (checksum)", lying, "checksum"},
                                         {"truncated", truncated, "incomplete"},
                                         {"another tree", other_key, "another tree"},
                                         {"another format", old_format, "not an include graph of this noreboot"},
                                         {"garbage", "\x7f" "ELF\x01\x02", "not an include graph"},
                                         {"last line cut", cut_line, "incomplete"}}) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(write_text(cache, c.text).ok());
    auto g = load_or_scan_include_graph(tree, cache, key, 2, &use);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_FALSE(use.cached);
    EXPECT_FALSE(use.not_trusted.empty());
    EXPECT_NE(use.not_trusted.find(c.why), std::string::npos) << use.not_trusted;
    EXPECT_EQ(use.scan.read, 7u);  // everything read again
    EXPECT_TRUE(use.written);
    EXPECT_EQ(*read_text(cache), good);  // and the cache replaced by a good one
    auto r = reaching(*g, "fs/proc/internal.h");
    EXPECT_NE(std::find(r.begin(), r.end(), "fs/proc/base.c"), r.end());
  }
}

TEST_F(GraphCache, AFileRewrittenToTheSameSizeIsReadAgain) {
  // The cache is keyed per file: a record whose file changed since (size or time) is read again,
  // so a stale record can never stand for a file's new text.
  GraphCacheUse use;
  ASSERT_TRUE(load_or_scan_include_graph(tree, cache, key, 2, &use).ok());
  auto before = fs::last_write_time(tree / "fs/proc/base.c");
  put("fs/proc/base.c", "#include \"internal.h\"\n");  // same size and text, another modification time
  fs::last_write_time(tree / "fs/proc/base.c", before + std::chrono::seconds(1));
  auto g = load_or_scan_include_graph(tree, cache, key, 2, &use);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(use.cached);
  EXPECT_EQ(use.scan.read, 1u);
}

}  // namespace
}  // namespace noreboot::builder
