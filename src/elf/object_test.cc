// Tests of the ELF model: real objects compiled here with gcc, read, edited, written, linked
// and run; hand-made corruptions must be refused with a message naming what is wrong.
#include "elf/object.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "elf/arch_x86_64.h"

namespace noreboot::elf {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = pclose(p);
  if (rc != 0) out += "\n[exit " + std::to_string(rc) + "]";
  return out;
}

std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ElfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nr_elf_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

constexpr const char* kLib = R"(
#include <stdio.h>
static int counter = 3;
static const char *names[] = { "zero", "one", "two" };
__attribute__((noinline)) static int bump(int x) { static int calls; calls++; return counter += x + calls; }
const char *name_of(int i) { return names[i % 3]; }
int compute(int x) { switch (x) { case 0: return bump(1); case 1: return bump(7); case 2: return 42;
  case 3: return bump(-2); case 4: return 9; default: return bump(x); } }
__thread int tls_value = 5;
int unused_function(int x) { return x * 1234567; }
)";
constexpr const char* kMain = R"(
#include <stdio.h>
const char *name_of(int i); int compute(int x); extern __thread int tls_value;
int main(void) { for (int i = 0; i < 8; i++) printf("%s %d %d\n", name_of(i), compute(i), tls_value++); return 0; }
)";

TEST_F(ElfTest, RoundTripLinksAndRunsTheSame) {
  write_file("lib.c", kLib);
  write_file("main.c", kMain);
  for (const char* flags : {"-O2 -ffunction-sections -fdata-sections", "-O0 -g", "-O2 -fPIC -pg -mfentry"}) {
    SCOPED_TRACE(flags);
    ASSERT_EQ(run("cd " + dir_.string() + " && gcc -c " + flags + " lib.c main.c"), "");
    ASSERT_EQ(run("cd " + dir_.string() + " && gcc -o orig lib.o main.o"), "");
    std::string expected = run(path("orig"));
    ASSERT_NE(expected.find("one"), std::string::npos);
    for (const char* name : {"lib.o", "main.o"}) {
      auto obj = read_object_file(path(name));
      ASSERT_TRUE(obj.ok()) << obj.error().message();
      ASSERT_TRUE(write_object_file(*obj, path(name)).ok());
    }
    ASSERT_EQ(run("cd " + dir_.string() + " && gcc -o rt lib.o main.o"), "");
    EXPECT_EQ(run(path("rt")), expected);
    // A second round trip is byte-identical to the first: the writer is deterministic.
    auto once = slurp(path("lib.o"));
    auto obj = read_object(once, "lib.o");
    ASSERT_TRUE(obj.ok());
    auto twice = write_object(*obj);
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(*twice, once);
  }
}

TEST_F(ElfTest, ReadsSectionsSymbolsRelocations) {
  write_file("lib.c", kLib);
  ASSERT_EQ(run("cd " + dir_.string() + " && gcc -c -O2 -ffunction-sections -fdata-sections lib.c"), "");
  auto obj = read_object_file(path("lib.o"));
  ASSERT_TRUE(obj.ok()) << obj.error().message();
  uint32_t text = obj->find_section(".text.compute");
  ASSERT_NE(text, 0u);
  EXPECT_EQ(obj->sections[text].sh_type, SHT_PROGBITS);
  EXPECT_TRUE(obj->sections[text].has_flag(SHF_EXECINSTR));
  uint32_t rela = obj->rela_for(text);
  ASSERT_NE(rela, 0u);
  EXPECT_FALSE(obj->sections[rela].relocs.empty());
  uint32_t sym = obj->find_symbol("compute");
  ASSERT_NE(sym, 0u);
  EXPECT_EQ(obj->symbols[sym].type(), STT_FUNC);
  EXPECT_EQ(obj->symbols[sym].bind(), STB_GLOBAL);
  EXPECT_EQ(obj->symbols[sym].st_shndx, text);
  uint32_t calls = 0;
  for (uint32_t i = 1; i < obj->symbols.size(); ++i)
    if (obj->symbols[i].name.rfind("calls.", 0) == 0) calls = i;
  ASSERT_NE(calls, 0u) << "static local 'calls' keeps its .N suffix";
  EXPECT_EQ(obj->symbols[calls].bind(), STB_LOCAL);
  uint32_t bss = obj->find_section(".bss." + obj->symbols[calls].name);
  ASSERT_NE(bss, 0u);
  EXPECT_EQ(obj->sections[bss].sh_type, SHT_NOBITS);
  EXPECT_EQ(obj->sections[bss].size(), 4u);
}

// Loading is zero-copy: sections view the file's mapping, copies share the view, the first
// edit copies (the file and other views never change), and the mapping outlives the file name.
TEST_F(ElfTest, SectionsViewTheMappedFileAndCopyOnFirstEdit) {
  write_file("lib.c", kLib);
  ASSERT_EQ(run("cd " + dir_.string() + " && gcc -c -O2 -ffunction-sections -fdata-sections lib.c"), "");
  const auto bytes = slurp(path("lib.o"));
  auto obj = read_object_file(path("lib.o"));
  ASSERT_TRUE(obj.ok()) << obj.error().message();
  uint32_t text = obj->find_section(".text.compute");
  ASSERT_NE(text, 0u);
  const Section& original = obj->sections[text];
  ASSERT_TRUE(original.data.is_view());
  ASSERT_FALSE(original.data.empty());
  // The view points into the mapping of the file, not at a copy of it.
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), original.data.begin(), original.data.end()), bytes.end());
  Section copy = original;
  EXPECT_EQ(copy.data.data(), original.data.data()) << "copying a section copies the view, not the bytes";
  copy.data.mutable_data()[0] ^= 0xff;
  EXPECT_FALSE(copy.data.is_view());
  EXPECT_NE(copy.data.data(), original.data.data());
  EXPECT_TRUE(original.data.is_view());
  EXPECT_NE(copy.data[0], original.data[0]);
  EXPECT_EQ(slurp(path("lib.o")), bytes) << "the file is never written through";

  auto expected = write_object(*read_object(bytes, "lib.o"));
  ASSERT_TRUE(expected.ok());
  fs::remove(path("lib.o"));  // the object keeps its mapping alive
  auto written = write_object(*obj);
  ASSERT_TRUE(written.ok()) << written.error().message();
  EXPECT_EQ(*written, *expected);

  auto missing = read_object_file(path("lib.o"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("lib.o: cannot open (does the file exist?)"), std::string::npos);
  auto dir = read_object_file(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message().find("not a regular file"), std::string::npos) << dir.error().message();
}

TEST_F(ElfTest, EditsRemoveRenameAndLivepatchFormsSurviveWriting) {
  write_file("lib.c", kLib);
  write_file("main.c", kMain);
  // No .eh_frame (as in the kernel): it would refer to every function's section.
  ASSERT_EQ(run("cd " + dir_.string() + " && gcc -c -O2 -ffunction-sections -fdata-sections "
                "-fno-asynchronous-unwind-tables lib.c main.c"), "");
  auto obj = read_object_file(path("lib.o"));
  ASSERT_TRUE(obj.ok());
  // Remove the unused function's section (and so its symbol).
  uint32_t unused = obj->find_section(".text.unused_function");
  ASSERT_NE(unused, 0u);
  std::vector<bool> drop(obj->sections.size(), false);
  drop[unused] = true;
  auto removed = obj->remove_sections(drop);
  ASSERT_TRUE(removed.ok()) << removed.error().message();
  EXPECT_EQ(obj->find_section(".text.unused_function"), 0u);
  EXPECT_EQ(obj->find_symbol("unused_function"), 0u);
  // Removing a section something still refers to is refused.
  std::vector<bool> drop_bump(obj->sections.size(), false);
  drop_bump[obj->find_section(".text.bump")] = true;
  auto refused = obj->remove_sections(drop_bump);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find(".text.compute"), std::string::npos) << refused.error().message();

  // Livepatch forms: a .klp.rela section and an SHN_LIVEPATCH symbol.
  Symbol klp;
  klp.name = ".klp.sym.vmlinux.printk,0";
  klp.st_info = st_info(STB_GLOBAL, STT_FUNC);
  klp.st_shndx = SHN_LIVEPATCH;
  uint32_t ks = obj->add_symbol(klp);
  uint32_t target = obj->find_section(".text.compute");
  uint32_t kr = obj->add_rela_section(target, ".klp.rela.vmlinux..text.compute", SHF_ALLOC | SHF_RELA_LIVEPATCH);
  obj->sections[kr].relocs.push_back({0x10, x86_64::R_X86_64_PLT32, ks, -4});
  // Rename a symbol: the string table is regenerated.
  obj->symbols[obj->find_symbol("name_of")].name = "name_of";  // unchanged name keeps linking
  auto bytes = write_object(*obj);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  auto back = read_object(*bytes, "edited");
  ASSERT_TRUE(back.ok()) << back.error().message();
  uint32_t kr2 = back->find_section(".klp.rela.vmlinux..text.compute");
  ASSERT_NE(kr2, 0u);
  EXPECT_EQ(back->sections[kr2].sh_flags, SHF_INFO_LINK | SHF_ALLOC | SHF_RELA_LIVEPATCH);
  EXPECT_EQ(back->sections[back->sections[kr2].sh_info].name, ".text.compute");
  ASSERT_EQ(back->sections[kr2].relocs.size(), 1u);
  const Symbol& ks2 = back->symbols[back->sections[kr2].relocs[0].r_sym];
  EXPECT_EQ(ks2.name, ".klp.sym.vmlinux.printk,0");
  EXPECT_EQ(ks2.st_shndx, SHN_LIVEPATCH);
  // Locals come before globals in the written table.
  bool seen_global = false;
  for (uint32_t i = 1; i < back->symbols.size(); ++i) {
    if (back->symbols[i].bind() != STB_LOCAL) seen_global = true;
    else EXPECT_FALSE(seen_global) << "local symbol " << back->symbols[i].name << " after a global";
  }
  // readelf agrees that the edited object is well formed.
  std::ofstream(path("edited.o"), std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()),
                                                          static_cast<std::streamsize>(bytes->size()));
  std::string re = run("readelf -SrW " + path("edited.o"));
  EXPECT_EQ(re.find("Warning"), std::string::npos) << re;
  EXPECT_EQ(re.find("Error"), std::string::npos) << re;
  EXPECT_NE(re.find(".klp.sym.vmlinux.printk,0 - 4"), std::string::npos) << re;

  // Without the klp section, the edited object still links and runs.
  std::vector<bool> drop_klp(back->sections.size(), false);
  drop_klp[kr2] = true;
  ASSERT_TRUE(back->remove_sections(drop_klp).ok());
  ASSERT_TRUE(write_object_file(*back, path("lib.o")).ok());
  ASSERT_EQ(run("cd " + dir_.string() + " && gcc -o prog lib.o main.o"), "");
  EXPECT_NE(run(path("prog")).find("two"), std::string::npos);
}

TEST_F(ElfTest, RefusesMalformedInputWithClearMessages) {
  write_file("lib.c", kLib);
  ASSERT_EQ(run("cd " + dir_.string() + " && gcc -c -O2 -ffunction-sections lib.c"), "");
  auto good = slurp(path("lib.o"));
  ASSERT_TRUE(read_object(good, "lib.o").ok());

  auto expect_error = [](const std::vector<uint8_t>& b, const std::string& needle) {
    auto r = read_object(b, "bad.o");
    ASSERT_FALSE(r.ok()) << "accepted, expected: " << needle;
    EXPECT_EQ(r.error().code(), Errc::invalid_input);
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().rfind("bad.o", 0), 0u) << r.error().message();
  };
  expect_error(std::vector<uint8_t>(good.begin(), good.begin() + 20), "too short");
  auto bad_magic = good;
  bad_magic[1] = 'X';
  expect_error(bad_magic, "bad magic");
  expect_error(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)), "past the end");
  auto exec = good;
  exec[16] = 2;  // ET_EXEC
  expect_error(exec, "relocatable");

  // Corrupt the first relocation's offset of the first RELA section so it points outside.
  auto obj = read_object(good, "lib.o");
  ASSERT_TRUE(obj.ok());
  uint64_t shoff = load<uint64_t>(good.data() + 40);
  for (uint32_t i = 1; i < obj->sections.size(); ++i) {
    if (obj->sections[i].sh_type != SHT_RELA || obj->sections[i].relocs.empty()) continue;
    uint64_t off = load<uint64_t>(good.data() + shoff + i * kShdrSize + 24);
    auto bad_rel = good;
    store<uint64_t>(bad_rel.data() + off, 0x7fffffff);
    expect_error(bad_rel, "is outside");
    auto bad_sym = good;
    store<uint32_t>(bad_sym.data() + off + 12, 0xffffff);
    expect_error(bad_sym, "past the last symbol");
    break;
  }
}

TEST(ElfNotes, ParsesNoteRecords) {
  Section s;
  s.name = ".note.test";
  s.sh_type = SHT_NOTE;
  // namesz=4 ("GNU\0"), descsz=3, type=3, then padding to 4.
  s.data = {4, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 0xaa, 0xbb, 0xcc, 0};
  auto notes = parse_notes(s);
  ASSERT_TRUE(notes.ok()) << notes.error().message();
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ((*notes)[0].name, "GNU");
  EXPECT_EQ((*notes)[0].type, 3u);
  EXPECT_EQ((*notes)[0].desc, (std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
  s.data.resize(14);
  EXPECT_FALSE(parse_notes(s).ok());
}

TEST(ElfArch, RelocationFacts) {
  auto pc32 = x86_64::reloc_info(x86_64::R_X86_64_PC32);
  ASSERT_TRUE(pc32);
  EXPECT_EQ(pc32->size, 4);
  EXPECT_TRUE(pc32->pc_relative);
  EXPECT_FALSE(x86_64::reloc_info(x86_64::R_X86_64_64)->pc_relative);
  EXPECT_EQ(x86_64::reloc_info(x86_64::R_X86_64_64)->size, 8);
  EXPECT_FALSE(x86_64::reloc_info(999));
  ASSERT_NE(x86_64::find_special_section("__bug_table"), nullptr);
  EXPECT_EQ(x86_64::find_special_section("__bug_table")->entry_size, 12u);
  EXPECT_EQ(x86_64::find_special_section(".orc_unwind_ip")->paired_with, ".orc_unwind");
}

}  // namespace
}  // namespace noreboot::elf
