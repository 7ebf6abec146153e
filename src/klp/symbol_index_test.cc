// Symbol index and sympos: first on a small executable linked at test time from C files
// written here (several files define a static function of the same name, two of them with the
// same base name), then on the real kernel's index when the cache has it.
#include "klp/symbol_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "core/process.h"
#include "core/test_kernel_cache.h"
#include "klp/symbol_cache.h"
#include "klp/test_files.h"

namespace noreboot::klp {
namespace {
namespace fs = std::filesystem;

using testing_files::write;

class LinkedExe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("klp_symidx_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    write(dir_ / "a.c", "static int dup(void) { return 1; }\nint only_in_first(void) { return 0; }\n"
                        "static int first_local(void) { return dup(); }\nint use_a(void) { return first_local(); }\n");
    write(dir_ / "b.c", "static int dup(void) { return 2; }\nint use_b(void) { return dup(); }\n"
                        "__attribute__((weak)) int weakling(void) { return 0; }\n");
    write(dir_ / "sub/a.c", "static int dup(void) { return 3; }\nstatic int second_local(void) { return dup(); }\n"
                            "int use_c(void) { return second_local(); }\n"
                            "int _start(void) { return use_a() + use_b() + use_c() + weakling(); }\n");
    auto r = run_shell("cd " + shell_quote(dir_.string()) +
                           " && gcc -O1 -fno-inline -c a.c -o a.o && gcc -O1 -fno-inline -c b.c -o b.o"
                           " && (cd sub && gcc -O1 -fno-inline -c a.c -o a.o)"
                           " && ld -r -o mod.o a.o b.o sub/a.o && ld -static -e _start -o exe a.o b.o sub/a.o",
                       "compile");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
};
fs::path LinkedExe::dir_;

TEST_F(LinkedExe, SymposFollowsAddressOrderAndFileBlocks) {
  auto idx = SymbolIndex::from_elf((dir_ / "exe").string(), "vmlinux", SymOrder::address);
  ASSERT_TRUE(idx.ok()) << idx.error().message();
  auto dups = idx->named("dup");
  ASSERT_EQ(dups.size(), 3u);
  EXPECT_LT(dups[0]->addr, dups[1]->addr);
  EXPECT_LT(dups[1]->addr, dups[2]->addr);

  auto b = idx->resolve({"dup", true, "b.c", {}});
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->sympos, 2u);
  EXPECT_EQ(idx->blocks()[static_cast<size_t>(b->symbol->block)], "b.c");

  // Two units are called a.c: without more information that is ambiguous and refused.
  auto amb = idx->resolve({"dup", true, "a.c", {}});
  ASSERT_FALSE(amb.ok());
  EXPECT_EQ(amb.error().code(), Errc::unsupported);
  EXPECT_NE(amb.error().message().find("ambiguous"), std::string::npos);

  // The unit's other local names pick the right a.c.
  auto first = idx->resolve({"dup", true, "a.c", {"first_local", "dup.5"}});
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->sympos, 1u);
  auto second = idx->resolve({"dup", true, "a.c", {"second_local"}});
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->sympos, 3u);
  EXPECT_NE(first->symbol->addr, second->symbol->addr);
}

TEST_F(LinkedExe, UniqueGlobalWeakAndMissing) {
  auto idx = SymbolIndex::from_elf((dir_ / "exe").string(), "vmlinux", SymOrder::address);
  ASSERT_TRUE(idx.ok());
  auto g = idx->resolve({"use_b", false, "", {}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->sympos, 0u);
  EXPECT_EQ(g->symbol->bind, 'G');
  EXPECT_EQ(idx->global_binding("weakling"), 'W');
  EXPECT_EQ(idx->global_binding("use_a"), 'G');
  EXPECT_EQ(idx->global_binding("dup"), 0);
  auto missing = idx->resolve({"no_such_function", false, "", {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  // A local name asked for from a file that has no copy.
  auto wrong_file = idx->resolve({"dup", true, "c.c", {}});
  ASSERT_FALSE(wrong_file.ok());
}

TEST_F(LinkedExe, ModuleOrderIsSymbolTableOrder) {
  // In a relocatable object every section starts at 0, so address order would be meaningless:
  // a module's sympos counts in symbol-table order.
  auto idx = SymbolIndex::from_elf((dir_ / "mod.o").string(), "mod", SymOrder::symtab);
  ASSERT_TRUE(idx.ok()) << idx.error().message();
  auto dups = idx->named("dup");
  ASSERT_EQ(dups.size(), 3u);
  auto second = idx->resolve({"dup", true, "a.c", {"second_local"}});
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->sympos, 3u);
}

TEST_F(LinkedExe, SaveLoadRoundTrip) {
  auto idx = SymbolIndex::from_elf((dir_ / "exe").string(), "vmlinux", SymOrder::address);
  ASSERT_TRUE(idx.ok());
  auto path = (dir_ / "exe.idx").string();
  ASSERT_TRUE(idx->save(path).ok());
  auto back = SymbolIndex::load(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->symbols().size(), idx->symbols().size());
  for (size_t i = 0; i < idx->symbols().size(); ++i) {
    EXPECT_EQ(back->symbols()[i].name, idx->symbols()[i].name);
    EXPECT_EQ(back->symbols()[i].addr, idx->symbols()[i].addr);
    EXPECT_EQ(back->symbols()[i].block, idx->symbols()[i].block);
    EXPECT_EQ(back->symbols()[i].bind, idx->symbols()[i].bind);
  }
  EXPECT_EQ(back->blocks(), idx->blocks());
  // A damaged index is an error naming the line, not a crash.
  write(dir_ / "bad.idx", "noreboot-symbol-index 1 vmlinux address\nB a.c\nzz nonsense\n");
  auto bad = SymbolIndex::load((dir_ / "bad.idx").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find(":3:"), std::string::npos);
}

TEST(ElfView, RejectsGarbage) {
  std::vector<uint8_t> junk(100, 0x41);
  auto v = ElfView::parse(junk, "junk");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("not an ELF"), std::string::npos);
  std::vector<uint8_t> truncated = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  EXPECT_FALSE(ElfView::parse(truncated, "t").ok());
}

// ---- The real kernel (needs the cached index: scripts/kernel-fetch --dbg, then noreboot-klp index) ----

// These tests carry the label `kernel` and fail without the cache (core/test_kernel_cache.h):
// $NR_ABI, else the newest kernel of the cache that has a symbol index (never a named ABI).
std::string real_abi() { return noreboot::testing::cached_kernel_abi("symbols/vmlinux.idx"); }

TEST(RealKernel, SymposAgreesWithSystemMapAndFileMarkers) {
  auto k = kernel_files_for(real_abi());
  ASSERT_TRUE(fs::exists(vmlinux_index_path(k))) << noreboot::testing::no_cached_kernel("symbols/vmlinux.idx");
  auto idx = SymbolIndex::load(vmlinux_index_path(k));
  ASSERT_TRUE(idx.ok()) << idx.error().message();
  // System.map (nm -n, from the -dbg package) is an independent address-ordered listing.
  std::ifstream map(k.kdir + "/symbols/System.map");
  ASSERT_TRUE(map.good());
  std::map<std::string, std::vector<uint64_t>> map_addrs;
  std::string line;
  while (std::getline(map, line)) {
    std::istringstream ls(line);
    std::string addr, type, name;
    ls >> addr >> type >> name;
    map_addrs[name].push_back(std::stoull(addr, nullptr, 16));
  }
  std::map<std::string, std::vector<const KernelSymbol*>> local_funcs;
  for (const auto& s : idx->symbols())
    if (s.type == 'F' && s.bind == 'L') local_funcs[s.name].push_back(&s);
  size_t duplicated = 0, checked = 0, ambiguous = 0;
  for (const auto& [name, copies] : local_funcs) {
    if (copies.size() < 2) continue;
    ++duplicated;
    auto all = idx->named(name);
    const auto& ref = map_addrs[name];
    ASSERT_EQ(ref.size(), all.size()) << name;
    for (const auto* c : copies) {
      std::string file = idx->blocks()[static_cast<size_t>(c->block)];
      auto r = idx->resolve({name, true, file, {}});
      if (!r.ok()) {
        ++ambiguous;  // same name in two units with the same base name; needs unit_locals
        continue;
      }
      ASSERT_EQ(r->symbol, c) << name << " in " << file;
      ASSERT_GE(r->sympos, 1u);
      // The sympos-th entry of that name in System.map is the same address.
      EXPECT_EQ(ref[r->sympos - 1], c->addr) << name << " sympos " << r->sympos;
      ++checked;
    }
  }
  std::cout << "duplicated local function names: " << duplicated << ", copies resolved and checked: " << checked
            << ", refused as ambiguous by base name alone: " << ambiguous << "\n";
  EXPECT_GT(duplicated, 250u);  // KERNEL-NOTES measured 302 on 6.1.0-56
  EXPECT_GT(checked, 500u);
}

TEST(RealKernel, AmbiguousBaseNameNarrowedByUnitLocals) {
  auto k = kernel_files_for(real_abi());
  ASSERT_TRUE(fs::exists(vmlinux_index_path(k))) << noreboot::testing::no_cached_kernel("symbols/vmlinux.idx");
  auto idx = SymbolIndex::load(vmlinux_index_path(k));
  ASSERT_TRUE(idx.ok());
  // For every local function defined twice under the same base name, the block's other
  // uniquely named locals must single out the right copy.
  size_t tried = 0, resolved = 0;
  std::map<int32_t, std::vector<std::string>> block_names;
  for (const auto& s : idx->symbols())
    if (s.block >= 0) block_names[s.block].push_back(s.name);
  std::map<std::pair<std::string, std::string>, std::vector<const KernelSymbol*>> by_file_name;
  for (const auto& s : idx->symbols())
    if (s.type == 'F' && s.bind == 'L' && s.block >= 0)
      by_file_name[{s.name, idx->blocks()[static_cast<size_t>(s.block)]}].push_back(&s);
  for (const auto& [key, copies] : by_file_name) {
    if (copies.size() < 2) continue;
    for (const auto* c : copies) {
      ++tried;
      auto r = idx->resolve({key.first, true, key.second, block_names[c->block]});
      if (r.ok()) {
        EXPECT_EQ(r->symbol, c) << key.first << " in " << key.second;
        ++resolved;
      }
    }
  }
  std::cout << "same base name and same function name: " << tried << " copies, " << resolved
            << " resolved with the unit's local names, the rest refused\n";
  EXPECT_GT(tried, 0u);
  EXPECT_GT(resolved, tried / 2);
}

}  // namespace
}  // namespace noreboot::klp

namespace noreboot::klp {
namespace {

TEST(RealKernel, ModuleSymbolsComeFromTheShippedKo) {
  auto k = kernel_files_for(noreboot::testing::cached_kernel_abi("root/lib/modules/ABI/kernel"));
  ASSERT_TRUE(std::filesystem::exists(k.moddir)) << noreboot::testing::no_cached_kernel("root/lib/modules/ABI/kernel");
  auto idx = module_index(k, "binfmt_misc");
  ASSERT_TRUE(idx.ok()) << idx.error().message();
  // `enabled` is a static int of binfmt_misc.c; the shipped .ko has no STT_FILE markers, so a
  // name that is unique among the module's locals resolves whatever file is asked for.
  auto r = idx->resolve({"enabled", true, "binfmt_misc.c", {}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->sympos, 0u);
  EXPECT_EQ(r->symbol->type, 'O');
  auto f = idx->resolve({"bm_status_read", true, "binfmt_misc.c", {}});
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f->symbol->type, 'F');
  // '-' and '_' are the same in module names; unknown modules are an error.
  EXPECT_TRUE(find_module_file(k, "binfmt-misc").ok());
  auto none = module_index(k, "no_such_module");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Errc::not_found);
  // Module order is symbol-table order: init-section symbols are not counted (the kernel
  // drops them from a module's kallsyms after init).
  for (const auto& s : idx->symbols()) EXPECT_NE(s.name, "init_misc_binfmt");
}

}  // namespace
}  // namespace noreboot::klp
