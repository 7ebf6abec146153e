#include "core/tar.h"

#include <gtest/gtest.h>

#include "core/test_support.h"

namespace noreboot {
namespace {

using testing::fix_tar_checksum;

Bytes two_members() {
  std::string a = "hello", b(700, 'x');
  auto tar = write_tar({{"a.txt", as_bytes(a)}, {"b.bin", as_bytes(b)}});
  EXPECT_TRUE(tar.ok());
  return *tar;
}

std::string read_error(const Bytes& archive) {
  auto r = read_tar(archive);
  EXPECT_FALSE(r.ok());
  return r ? "" : r.error().message();
}

TEST(Tar, RoundTrip) {
  Bytes tar = two_members();
  EXPECT_EQ(tar.size() % 512, 0u);
  // header + 1 block, header + 2 blocks, 2 end blocks
  EXPECT_EQ(tar.size(), 512u * (2 + 3 + 2));
  auto members = read_tar(tar);
  ASSERT_TRUE(members.ok()) << members.error().message();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].name, "a.txt");
  EXPECT_EQ(as_chars((*members)[0].data), "hello");
  EXPECT_EQ((*members)[1].name, "b.bin");
  EXPECT_EQ((*members)[1].data.size(), 700u);
}

TEST(Tar, WriterIsDeterministic) { EXPECT_EQ(two_members(), two_members()); }

TEST(Tar, EmptyArchiveIsRefused) {
  EXPECT_NE(read_error({}).find("empty"), std::string::npos);
}

TEST(Tar, TruncatedInHeaderOrEndMarker) {
  Bytes tar = two_members();
  tar.resize(512 * 5);  // members complete, end-of-archive marker gone
  EXPECT_NE(read_error(tar).find("truncated"), std::string::npos);
  tar.resize(512 * 5 + 100);
  EXPECT_NE(read_error(tar).find("truncated"), std::string::npos);
}

TEST(Tar, TruncatedMemberNamesIt) {
  Bytes tar = two_members();
  tar.resize(512 * 2 + 512 + 300);  // inside b.bin's data
  std::string msg = read_error(tar);
  EXPECT_NE(msg.find("'b.bin'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(Tar, BadChecksum) {
  Bytes tar = two_members();
  tar[10] ^= 1;  // inside a.txt's name field, checksum not updated
  std::string msg = read_error(tar);
  EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
}

TEST(Tar, BadMagic) {
  Bytes tar = two_members();
  tar[257] = 'X';
  fix_tar_checksum(tar, 0);
  EXPECT_NE(read_error(tar).find("not a ustar header"), std::string::npos);
}

void set_type(Bytes& tar, size_t header, char type) {
  tar[header + 156] = static_cast<std::uint8_t>(type);
  fix_tar_checksum(tar, header);
}

TEST(Tar, RefusesNonRegularMembers) {
  const std::pair<char, const char*> cases[] = {{'1', "hard link"},   {'2', "symbolic link"},
                                                {'3', "character device"}, {'4', "block device"},
                                                {'5', "directory"},   {'6', "FIFO"},
                                                {'x', "pax"},         {'L', "GNU long-name"}};
  for (auto [type, words] : cases) {
    Bytes tar = two_members();
    set_type(tar, 1024, type);
    std::string msg = read_error(tar);
    EXPECT_NE(msg.find("'b.bin'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  }
}

void set_name(Bytes& tar, size_t header, const std::string& name) {
  std::memset(tar.data() + header, 0, 100);
  std::memcpy(tar.data() + header, name.data(), name.size());
  fix_tar_checksum(tar, header);
}

TEST(Tar, RefusesUnsafePaths) {
  const std::pair<const char*, const char*> cases[] = {
      {"../evil", "'..'"}, {"a/../../evil", "'..'"}, {"/etc/passwd", "absolute"},
      {"./a", "'.'"},     {"a//b", "empty component"}};
  for (auto [name, words] : cases) {
    Bytes tar = two_members();
    set_name(tar, 0, name);
    std::string msg = read_error(tar);
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  }
}

TEST(Tar, PrefixFieldJoinsThePath) {
  Bytes tar = two_members();
  std::memcpy(tar.data() + 345, "..", 2);  // prefix ".." + "/" + "a.txt"
  fix_tar_checksum(tar, 0);
  EXPECT_NE(read_error(tar).find("'../a.txt'"), std::string::npos);
}

TEST(Tar, DataAfterEndMarkerIsRefused) {
  Bytes tar = two_members();
  tar.back() = 1;
  EXPECT_NE(read_error(tar).find("after its end-of-archive marker"), std::string::npos);
}

TEST(Tar, HugeSizeFieldIsTruncationNotOverflow) {
  Bytes tar = two_members();
  std::memcpy(tar.data() + 124, "77777777777", 11);
  fix_tar_checksum(tar, 0);
  EXPECT_NE(read_error(tar).find("truncated"), std::string::npos);
}

TEST(Tar, TooManyMembers) {
  std::vector<TarFile> files;
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) names.push_back("f" + std::to_string(i));
  for (auto& n : names) files.push_back({n, as_bytes(n)});
  auto tar = write_tar(files);
  ASSERT_TRUE(tar.ok());
  auto r = read_tar(*tar, {.max_members = 4});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("more than 4 members"), std::string::npos);
}

TEST(Tar, WriterRefusesBadNames) {
  EXPECT_FALSE(write_tar({{"../x", {}}}).ok());
  EXPECT_FALSE(write_tar({{std::string(101, 'a'), {}}}).ok());
  EXPECT_FALSE(write_tar({{"", {}}}).ok());
}

}  // namespace
}  // namespace noreboot
