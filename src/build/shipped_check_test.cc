// The check against the shipped code, on C compiled and linked here. As in the kernel:
//  - "the tree's object" is compiled with -ffunction-sections (the builder's KCFLAGS), the
//    "shipped" code without it, both with an ftrace call (-pg -mfentry) at every entry;
//  - "vmlinux" is an executable linked from those objects, with its symbol table indexed the way
//    klp indexes the -dbg vmlinux (two files define a static `dup`, told apart by STT_FILE);
//  - "a module" is a relocatable `ld -r` of such objects, as a .ko is.
// A "wrong tree" is the same file with one constant changed (same size) or one more statement.
#include "build/shipped_check.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "build/process.h"
#include "klp/elf_view.h"
#include "klp/symbol_index.h"

namespace noreboot::build {
namespace {
namespace fs = std::filesystem;

const char* const kUnit = R"(
extern int counter;
int shared_helper(int x);
__attribute__((cold, noinline)) void rare(int x);
static __attribute__((noinline)) int dup(int x) { return x * 3 + counter; }
__attribute__((noinline)) int show(int x) {
  if (__builtin_expect(x == 12345, 0)) rare(x);
  return dup(x) + shared_helper(x) + SHOW_CONSTANT EXTRA;
}
__attribute__((weak, noinline)) int tunable(void) { return 1; }
)";

const char* const kOther = R"(
int counter = 5;
static __attribute__((noinline)) int dup(int x) { return x - counter; }
__attribute__((noinline)) int shared_helper(int x) { return dup(x) * 2; }
__attribute__((noinline)) int tunable(void) { return 2; }
__attribute__((cold, noinline)) void rare(int x) { counter = x; }
int show(int x);
void __fentry__(void) {}
void _start(void) { counter = show(counter) + tunable(); for (;;) {} }
)";

class ShippedCheckTest : public ::testing::Test {
 protected:
  struct Mapped {
    klp::MappedFile map;
    klp::ElfView view;
  };

  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("shipped_check_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "other");
    std::ofstream(dir_ / "unit.c") << kUnit;
    std::ofstream(dir_ / "other/other.c") << kOther;
    std::string cc = "gcc -O2 -fno-pic -fno-pie -fno-asynchronous-unwind-tables -pg -mfentry -c ";
    std::string ffs = "-ffunction-sections -fdata-sections ";
    std::string script =
        "set -e; cd " + shell_quote(dir_.string()) + "\n" +
        // the tree's objects: ours (function sections), and "wrong trees"
        cc + ffs + "'-DSHOW_CONSTANT=7' -DEXTRA= unit.c -o ours.o\n" +
        "mkdir -p wrong bigger\n" +
        cc + ffs + "'-DSHOW_CONSTANT=8' -DEXTRA= unit.c -o wrong/unit.o\n" +
        cc + ffs + "'-DSHOW_CONSTANT=7' '-DEXTRA=+ x * counter' unit.c -o bigger/unit.o\n" +
        // the shipped build: no function sections, like Debian's
        "mkdir -p shipped && cd shipped && cp ../unit.c . && " + cc +
        "'-DSHOW_CONSTANT=7' -DEXTRA= unit.c -o unit.o\n" +
        "gcc -O2 -fno-pic -fno-pie -fno-asynchronous-unwind-tables -c ../other/other.c -o other.o\n" +
        "ld -static -e _start -o vmlinux unit.o other.o\n" +
        "ld -r -o mod.ko unit.o\n"
        "ld -r -o both.ko unit.o other.o\n"
        // a tree where a function exists that the shipped code does not have
        "cd .. && mkdir -p extra && printf '%s\\n' 'int counter;' "
        "'__attribute__((noinline)) int only_in_this_tree(int x) { return x + counter; }' > extra/unit.c\n" +
        cc + ffs + "extra/unit.c -o extra/unit.o\n";
    auto r = run_checked({"sh", "-c", script}, {.log = dir_ / "build.log"});
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static Mapped open(const std::string& rel) {
    auto m = klp::MappedFile::open((dir_ / rel).string());
    EXPECT_TRUE(m.ok()) << rel;
    auto v = klp::ElfView::parse(m->bytes(), rel.ends_with(".o") ? rel : fs::path(rel).filename().string());
    EXPECT_TRUE(v.ok()) << v.error().message();
    return {std::move(m).value(), std::move(v).value()};
  }

  // Runs check_unit for FUNCTIONS of OBJECT against the linked "vmlinux".
  static ShippedCheck against_image(const std::string& object, const std::vector<std::string>& functions) {
    auto image = open("shipped/vmlinux");
    auto index = klp::SymbolIndex::from_elf((dir_ / "shipped/vmlinux").string(), "vmlinux", klp::SymOrder::address);
    EXPECT_TRUE(index.ok()) << index.error().message();
    ShippedCode shipped{.target = "vmlinux", .file = "vmlinux", .elf = &image.view, .index = &*index,
                        .kernel = "6.1.0-57-amd64", .tree = "/trees/wrong",
                        .source_package = "linux-source-6.1=6.1.192-3"};
    auto obj = open(object);
    ShippedCheck out;
    auto st = check_unit(obj.view, "lib/unit.c", functions, shipped, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out;
  }

  static ShippedCheck against_module(const std::string& object, const std::string& ko,
                                     const std::vector<std::string>& functions) {
    auto mod = open(ko);
    ShippedCode shipped{.target = "mod", .file = fs::path(ko).filename().string(), .elf = &mod.view};
    auto obj = open(object);
    ShippedCheck out;
    auto st = check_unit(obj.view, "drivers/mod/unit.c", functions, shipped, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out;
  }

  static std::string reasons(const ShippedCheck& c) {
    std::string s;
    for (const auto& r : c.refusals) s += format_refusal(r) + "\n";
    return s;
  }

  static fs::path dir_;
};
fs::path ShippedCheckTest::dir_;

TEST_F(ShippedCheckTest, RightTreeEqualsTheImage) {
  // show (with its .cold part) and the static dup: dup exists twice in the image (unit.c and
  // other.c); the unit's STT_FILE picks its own copy.
  auto c = against_image("ours.o", {"show", "dup"});
  EXPECT_TRUE(c.refusals.empty()) << reasons(c);
  EXPECT_EQ(c.functions, 3u);  // show, show.cold, dup
  EXPECT_GT(c.masked, 0u);
  EXPECT_LT(c.masked, c.bytes);
}

TEST_F(ShippedCheckTest, OnlyRelocatedBytesAreMasked) {
  auto ours_file = open("ours.o");
  auto image = open("shipped/vmlinux");
  auto index = klp::SymbolIndex::from_elf((dir_ / "shipped/vmlinux").string(), "vmlinux", klp::SymOrder::address);
  ASSERT_TRUE(index.ok());
  auto sym = index->resolve({"show", false, "", {}});
  ASSERT_TRUE(sym.ok()) << sym.error().message();
  auto ours = code_in_relocatable(ours_file.view, "show");
  ASSERT_TRUE(ours.ok()) << ours.error().message();
  auto shipped = code_in_image(image.view, sym->symbol->addr, sym->symbol->size);
  ASSERT_TRUE(shipped.ok()) << shipped.error().message();
  ASSERT_EQ(ours->bytes.size(), shipped->bytes.size());
  // The ftrace call: opcode e8 compared (the image still holds the call), rel32 relocated.
  EXPECT_EQ(ours->bytes[0], 0xe8);
  EXPECT_EQ(shipped->bytes[0], 0xe8);
  EXPECT_FALSE(ours->masked[0]);
  EXPECT_TRUE(ours->masked[1] && ours->masked[2] && ours->masked[3] && ours->masked[4]);
  EXPECT_EQ(first_difference(*ours, *shipped), std::nullopt);
  // Without the mask the linked values differ from the object's zeros: masking is what makes
  // the comparison possible, and it covers exactly the relocated fields.
  FunctionCode bare = *ours;
  bare.masked.assign(bare.masked.size(), false);
  auto at = first_difference(bare, *shipped);
  ASSERT_TRUE(at.has_value());
  EXPECT_TRUE(ours->masked[*at]);
  size_t masked = 0;
  for (bool m : ours->masked) masked += m ? 1 : 0;
  EXPECT_EQ(masked % 4, 0u);  // whole 4-byte fields (PLT32, PC32) only
}

TEST_F(ShippedCheckTest, FirstDifferenceSkipsMaskedBytesOfEitherSide) {
  const uint8_t a[] = {1, 2, 3, 4, 5};
  const uint8_t b[] = {1, 9, 3, 8, 6};
  FunctionCode x{a, {false, true, false, false, false}, "x"};
  FunctionCode y{b, {false, false, false, true, false}, "y"};
  EXPECT_EQ(first_difference(x, y), std::optional<uint64_t>(4));
  y.masked[4] = true;
  EXPECT_EQ(first_difference(x, y), std::nullopt);
}

TEST_F(ShippedCheckTest, WrongTreeIsRefusedAtTheFirstDifferingByte) {
  auto c = against_image("wrong/unit.o", {"show", "dup"});
  EXPECT_EQ(c.functions, 2u);  // dup and show.cold are the same in both trees
  ASSERT_EQ(c.refusals.size(), 1u) << reasons(c);
  const auto& r = c.refusals[0];
  EXPECT_EQ(r.what, "lib/unit.c: show");
  EXPECT_NE(r.reason.find("does not produce the running kernel's code"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("differ at offset +0x"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("wrong/unit.o"), std::string::npos) << r.reason;  // the object is named
  EXPECT_NE(r.todo.find("exact linux-source"), std::string::npos) << r.todo;
  EXPECT_NE(r.todo.find("the tree /trees/wrong is built from the exact linux-source of 6.1.0-57-amd64 "
                        "(linux-source-6.1=6.1.192-3)"),
            std::string::npos)
      << r.todo;
}

TEST_F(ShippedCheckTest, SizeMismatchIsRefused) {
  auto c = against_image("bigger/unit.o", {"show"});
  ASSERT_GE(c.refusals.size(), 1u);
  EXPECT_EQ(c.refusals[0].what, "lib/unit.c: show");
  EXPECT_NE(c.refusals[0].reason.find("does not produce the running kernel's code: show in the original object "
                                      "bigger/unit.o and in vmlinux at "),
            std::string::npos)
      << reasons(c);
  EXPECT_NE(c.refusals[0].reason.find(" and 0x34 bytes, first differing byte at +0x"), std::string::npos) << reasons(c);
  EXPECT_NE(c.refusals[0].reason.find("first differing byte at +0x"), std::string::npos) << reasons(c);
}

TEST_F(ShippedCheckTest, FunctionMissingFromTheImageIsRefused) {
  // A function our object has and the image lacks (a tree where it exists, or is not inlined).
  auto c = against_image("extra/unit.o", {"only_in_this_tree"});
  ASSERT_EQ(c.refusals.size(), 1u);
  EXPECT_EQ(c.refusals[0].what, "lib/unit.c: only_in_this_tree");
  EXPECT_NE(c.refusals[0].reason.find("cannot be compared"), std::string::npos) << reasons(c);
  EXPECT_NE(c.refusals[0].reason.find("does not exist"), std::string::npos) << reasons(c);
  EXPECT_EQ(c.functions, 0u);
}

TEST_F(ShippedCheckTest, OverriddenWeakDefaultIsRefused) {
  auto c = against_image("ours.o", {"tunable"});
  ASSERT_EQ(c.refusals.size(), 1u);
  EXPECT_NE(c.refusals[0].reason.find("__weak"), std::string::npos) << reasons(c);
}

TEST_F(ShippedCheckTest, ModuleEqualsTheShippedKo) {
  // The .ko was assembled without function sections: show's call to the static dup has no
  // relocation there (the assembler resolved it), ours has one; the union of masks covers it.
  auto c = against_module("ours.o", "shipped/mod.ko", {"show", "dup"});
  EXPECT_TRUE(c.refusals.empty()) << reasons(c);
  EXPECT_EQ(c.functions, 3u);
}

TEST_F(ShippedCheckTest, ModuleFromAWrongTreeIsRefused) {
  auto c = against_module("wrong/unit.o", "shipped/mod.ko", {"show"});
  ASSERT_EQ(c.refusals.size(), 1u) << reasons(c);
  EXPECT_EQ(c.refusals[0].what, "drivers/mod/unit.c: show");
  EXPECT_NE(c.refusals[0].reason.find("mod.ko"), std::string::npos) << reasons(c);
  EXPECT_NE(c.refusals[0].reason.find("differ at offset +0x"), std::string::npos) << reasons(c);

  auto big = against_module("bigger/unit.o", "shipped/mod.ko", {"show"});
  ASSERT_GE(big.refusals.size(), 1u);
  EXPECT_NE(big.refusals[0].reason.find("differ in size"), std::string::npos) << reasons(big);
}

TEST_F(ShippedCheckTest, ModuleWithoutTheFunctionOrWithTwoCopiesIsRefused) {
  auto missing = against_module("extra/unit.o", "shipped/mod.ko", {"only_in_this_tree"});
  ASSERT_EQ(missing.refusals.size(), 1u);
  EXPECT_NE(missing.refusals[0].reason.find("defines no global function only_in_this_tree"), std::string::npos)
      << reasons(missing);
  // both.ko has two static dup (unit.c and other.c); a .ko keeps no STT_FILE to choose.
  auto two = against_module("ours.o", "shipped/both.ko", {"dup"});
  ASSERT_EQ(two.refusals.size(), 1u);
  EXPECT_NE(two.refusals[0].reason.find("2 local functions dup"), std::string::npos) << reasons(two);
}

}  // namespace
}  // namespace noreboot::build
