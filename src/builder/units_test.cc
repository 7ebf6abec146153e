#include "builder/units.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace noreboot::builder {
namespace {
namespace fs = std::filesystem;

PatchSet files(std::initializer_list<std::pair<const char*, ChangeKind>> list) {
  PatchSet p;
  for (auto [path, kind] : list) p.files.push_back({path, path, kind, 1});
  return p;
}

TEST(Units, ClassifiesEveryKindOfFile) {
  auto t = classify_files(files({{"fs/proc/cmdline.c", ChangeKind::modified},
                                 {"include/linux/list.h", ChangeKind::modified},
                                 {"arch/x86/entry/entry_64.S", ChangeKind::modified},
                                 {"fs/proc/Makefile", ChangeKind::modified},
                                 {"init/Kconfig", ChangeKind::modified},
                                 {"Documentation/x.rst", ChangeKind::modified},
                                 {"tools/perf/builtin.c", ChangeKind::modified},
                                 {"lib/new.c", ChangeKind::added},
                                 {"rust/kernel/lib.rs", ChangeKind::modified}}));
  ASSERT_EQ(t.sources.size(), 1u);
  EXPECT_EQ(t.sources[0], "fs/proc/cmdline.c");
  EXPECT_EQ(t.ignored.size(), 2u);
  ASSERT_EQ(t.headers.size(), 1u);  // the header index decides (header_units.h)
  EXPECT_EQ(t.headers[0], "include/linux/list.h");
  ASSERT_EQ(t.refusals.size(), 5u);
  EXPECT_NE(t.refusals[0].reason.find("assembly"), std::string::npos);
  for (const auto& r : t.refusals) EXPECT_FALSE(r.todo.empty()) << r.what;
}

TEST(Units, ObjectAndCmdFileNames) {
  EXPECT_EQ(object_of("fs/proc/cmdline.c"), "fs/proc/cmdline.o");
  EXPECT_EQ(cmd_file_of("fs/proc/cmdline.o"), "fs/proc/.cmdline.o.cmd");
  EXPECT_EQ(cmd_file_of("x.o"), ".x.o.cmd");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "units_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir = t;
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << text;
  }
  fs::path dir;
};

TEST_F(TempDir, RecordedCommandUnescapesMake) {
  write("fs/xfs/.xfs_super.o.cmd",
        "cmd_fs/xfs/xfs_super.o := gcc-12 -DMODULE -DKBUILD_MODNAME='\"xfs\"' -DX=$$HOME -DH=\\#1 -c -o "
        "fs/xfs/xfs_super.o fs/xfs/xfs_super.c\n\nsource_fs/xfs/xfs_super.o := fs/xfs/xfs_super.c\n");
  auto cmd = read_recorded_command(dir, "fs/xfs/xfs_super.o");
  ASSERT_TRUE(cmd.ok()) << cmd.error().message();
  EXPECT_NE(cmd->find("-DX=$HOME -DH=#1 "), std::string::npos) << *cmd;
  EXPECT_EQ(read_recorded_command(dir, "fs/xfs/other.o").error().code(), Errc::not_found);
  write("fs/.bad.o.cmd", "something else\n");
  EXPECT_EQ(read_recorded_command(dir, "fs/bad.o").error().code(), Errc::invalid_input);
}

TEST_F(TempDir, OwnerFromRecordedCommand) {
  write("modules.order", "kernel/fs/xfs/xfs.ko\nkernel/drivers/net/virtio-net.ko\n");
  Unit builtin{.source = "fs/proc/cmdline.c", .object = "fs/proc/cmdline.o",
               .command = "gcc-12 -DKBUILD_MODNAME='\"proc\"' -c -o fs/proc/cmdline.o fs/proc/cmdline.c"};
  ASSERT_TRUE(resolve_owner(builtin, dir / "modules.order").ok());
  EXPECT_EQ(builtin.owner, "vmlinux");
  EXPECT_FALSE(builtin.in_module);

  Unit mod{.source = "drivers/net/virtio_net.c", .object = "drivers/net/virtio_net.o",
           .command = "gcc-12 -DMODULE -DKBUILD_MODNAME='\"virtio_net\"' -c -o x.o x.c"};
  ASSERT_TRUE(resolve_owner(mod, dir / "modules.order").ok());
  EXPECT_EQ(mod.owner, "virtio_net");
  EXPECT_TRUE(mod.in_module);

  Unit absent{.source = "drivers/x/y.c", .object = "drivers/x/y.o",
              .command = "gcc-12 -DMODULE -DKBUILD_MODNAME='\"ymod\"' -c -o x.o x.c"};
  auto st = resolve_owner(absent, dir / "modules.order");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::unsupported);
  EXPECT_NE(st.error().message().find("ymod"), std::string::npos);
}

}  // namespace
}  // namespace noreboot::builder
