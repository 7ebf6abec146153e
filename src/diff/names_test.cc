#include "diff/names.h"

#include <gtest/gtest.h>

namespace noreboot::diff {
namespace {

TEST(Names, NormalizeDropsNumbersKeepsCloneKinds) {
  EXPECT_EQ(normalize_name("foo"), "foo");
  EXPECT_EQ(normalize_name("foo.constprop.0"), "foo.constprop");
  EXPECT_EQ(normalize_name("foo.isra.12"), "foo.isra");
  EXPECT_EQ(normalize_name("foo.part.3"), "foo.part");
  EXPECT_EQ(normalize_name("foo.cold"), "foo.cold");
  EXPECT_EQ(normalize_name("foo.cold.7"), "foo.cold");
  EXPECT_EQ(normalize_name("foo.constprop.0.isra.0"), "foo.constprop.isra");
  EXPECT_EQ(normalize_name("foo.part.0.cold"), "foo.part.cold");
  EXPECT_EQ(normalize_name("helper.llvm.123456"), "helper");
  EXPECT_EQ(normalize_name("count.0"), "count");
  EXPECT_EQ(normalize_name("__func__.5"), "__func__");
  EXPECT_EQ(normalize_name("CSWTCH.123"), "CSWTCH");
  EXPECT_EQ(normalize_name("__UNIQUE_ID_ddebug401"), "__UNIQUE_ID_ddebug");
  EXPECT_NE(normalize_name("foo.part.0"), normalize_name("foo"));
  // Sections: the leading dot belongs to the base.
  EXPECT_EQ(normalize_name(".bss.count.0"), ".bss.count");
  EXPECT_EQ(normalize_name(".rodata.foo.str1.1"), ".rodata.foo.str1");
  EXPECT_EQ(normalize_name(".text.foo.constprop.0"), ".text.foo.constprop");
  EXPECT_EQ(normalize_name(".LC0"), ".LC0");
}

TEST(Names, ColdParts) {
  EXPECT_TRUE(is_cold_part("foo.cold"));
  EXPECT_TRUE(is_cold_part("foo.part.0.cold.2"));
  EXPECT_FALSE(is_cold_part("foo"));
  EXPECT_FALSE(is_cold_part("coldfoo"));
  EXPECT_FALSE(is_cold_part("foo.part.1"));
}

TEST(Names, FreshKinds) {
  EXPECT_EQ(fresh_kind("__already_done.3", ".data.once"), FreshKind::state);
  EXPECT_EQ(fresh_kind("__already_done.3", ".data..once"), FreshKind::state);
  EXPECT_EQ(fresh_kind("__key.12", ".bss.__key.12"), FreshKind::state);
  EXPECT_EQ(fresh_kind("__func__.5", ".rodata.__func__.5"), FreshKind::content);
  EXPECT_EQ(fresh_kind("CSWTCH.45", ".rodata.CSWTCH.45"), FreshKind::content);
  EXPECT_EQ(fresh_kind("_rs.2", ".data._rs.2"), FreshKind::content);
  EXPECT_EQ(fresh_kind("__UNIQUE_ID_ddebug301", "__dyndbg"), FreshKind::descriptor);
  EXPECT_EQ(fresh_kind("counter", ".bss.counter"), FreshKind::none);
  EXPECT_EQ(fresh_kind("count.0", ".bss.count.0"), FreshKind::none);
}

}  // namespace
}  // namespace noreboot::diff
