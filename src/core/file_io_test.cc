// Whole-file reads and atomic writes (core/file_io.h): read_text reads to EOF what reports no
// size, refuses what is too long and says when a file is missing; write_text replaces a file
// whole, with the mode asked for, with or without the fsyncs.
#include "core/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/test_support.h"

namespace noreboot {
namespace {

TEST(FileIo, ReadTextReadsAProcFileThatReportsNoSize) {
  auto text = read_text("/proc/self/status");
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_NE(text->find("Pid:"), std::string::npos);
}

TEST(FileIo, ReadTextSaysWhenTheFileIsMissingOrTooLong) {
  testing::TempDir d;
  auto missing = read_text(d / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find((d / "missing").string()), std::string::npos);
  ASSERT_TRUE(write_text(d / "long", "0123456789"));
  auto too_long = read_text(d / "long", 4);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::invalid_input);
}

TEST(FileIo, WriteTextReplacesTheFileWithTheModeAskedFor) {
  testing::TempDir d;
  ASSERT_TRUE(write_text(d / "state.json", "old\n", {.mode = 0600}));
  ASSERT_TRUE(write_text(d / "state.json", "new\n", {.mode = 0600, .durable = false}));
  EXPECT_EQ(read_text(d / "state.json").value_or(""), "new\n");
  struct stat st {};
  ASSERT_EQ(::stat((d / "state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& e : std::filesystem::directory_iterator(d.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

}  // namespace
}  // namespace noreboot
