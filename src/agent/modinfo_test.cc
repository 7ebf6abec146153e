#include "agent/modinfo.h"

#include <gtest/gtest.h>

#include <cstring>

#include "agent/test_support.h"

namespace noreboot::agent {
namespace {

TEST(ModInfo, ReadsNameAndLivepatchFlag) {
  auto info = read_modinfo(testing::make_module_bytes("livepatch_fix_1", true, "code"));
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->name(), "livepatch_fix_1");
  EXPECT_TRUE(info->is_livepatch());
  EXPECT_EQ(info->get("license"), "GPL");
  EXPECT_EQ(info->get("missing"), "");
}

TEST(ModInfo, PlainModuleIsNotALivepatch) {
  auto info = read_modinfo(testing::make_module_bytes("plain", false));
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_livepatch());
}

TEST(ModInfo, RejectsNonElf) {
  auto info = read_modinfo("hello, this is not an ELF file at all, not even close to one....");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Errc::invalid_input);
  EXPECT_NE(info.error().message().find("not an ELF"), std::string::npos);
}

TEST(ModInfo, EveryTruncationIsAnErrorNotACrash) {
  std::string full = testing::make_module_bytes("m", true, "abc");
  for (size_t n = 0; n < full.size(); ++n) {
    auto info = read_modinfo(std::string_view(full).substr(0, n));
    EXPECT_FALSE(info.ok()) << "truncated to " << n << " bytes";
  }
  EXPECT_TRUE(read_modinfo(full).ok());
}

TEST(ModInfo, CorruptSectionOffsetsAreRejected) {
  std::string bytes = testing::make_module_bytes("m");
  uint64_t shoff;
  std::memcpy(&shoff, bytes.data() + 40, 8);
  // Point .modinfo (section 1) far past the end of the file.
  uint64_t huge = 1ull << 40;
  std::memcpy(bytes.data() + shoff + 64 + 0x18, &huge, 8);
  auto info = read_modinfo(bytes);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message().find(".modinfo past end"), std::string::npos);
}

}  // namespace
}  // namespace noreboot::agent
