#include "klp/exports.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/test_kernel_cache.h"
#include "klp/symbol_cache.h"

namespace noreboot::klp {
namespace {

TEST(ExportTable, ParsesModuleSymvers) {
  auto t = ExportTable::parse("0x06689996\tklp_enable_patch\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
                              "0x1234abcd\txfs_foo\tfs/xfs/xfs\tEXPORT_SYMBOL\tXFS_NS\n",
                              "test");
  ASSERT_TRUE(t.ok()) << t.error().message();
  ASSERT_TRUE(t->is_exported("klp_enable_patch"));
  EXPECT_EQ(t->find("klp_enable_patch")->crc, 0x06689996u);
  EXPECT_EQ(t->find("xfs_foo")->module, "fs/xfs/xfs");
  EXPECT_EQ(t->find("xfs_foo")->ns, "XFS_NS");
  EXPECT_FALSE(t->is_exported("cmdline_proc_show"));
}

TEST(ExportTable, OwnerIsTheKernelsModuleName) {
  auto t = ExportTable::parse("0x1\tklp_enable_patch\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
                              "0x2\tsvc_reserve\tnet/sunrpc/sunrpc\tEXPORT_SYMBOL_GPL\t\n"
                              "0x3\tusb_stor_control_msg\tdrivers/usb/storage/usb-storage\tEXPORT_SYMBOL_GPL\tUSB_STORAGE\n",
                              "test");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->find("klp_enable_patch")->owner(), "vmlinux");
  EXPECT_EQ(t->find("svc_reserve")->owner(), "sunrpc");
  EXPECT_EQ(t->find("usb_stor_control_msg")->owner(), "usb_storage");
  EXPECT_EQ(kernel_module_name("usb-storage"), "usb_storage");
  EXPECT_EQ(kernel_module_name("kernel/drivers/usb/storage/ums-realtek.ko"), "ums_realtek");
  EXPECT_EQ(kernel_module_name("xfs"), "xfs");
}

TEST(ExportTable, RejectsMalformedLines) {
  auto t = ExportTable::parse("0x0\tok\tvmlinux\tEXPORT_SYMBOL\n0xZZ\tbad\tvmlinux\tEXPORT_SYMBOL\n", "x.symvers");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("x.symvers:2"), std::string::npos);
  EXPECT_FALSE(ExportTable::parse("just words\n", "y").ok());
}

// Label `kernel`: fails without a cached kernel (core/test_kernel_cache.h).
TEST(RealKernel, ExportTableOfTheCachedHeaders) {
  const std::string needs = "root/usr/src/linux-headers-ABI/Module.symvers";
  auto k = kernel_files_for(noreboot::testing::cached_kernel_abi(needs));
  std::string path = k.headers + "/Module.symvers";
  ASSERT_TRUE(std::filesystem::exists(path)) << noreboot::testing::no_cached_kernel(needs);
  auto t = ExportTable::load(path);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_GT(t->size(), 20000u);
  EXPECT_TRUE(t->is_exported("klp_enable_patch"));
  EXPECT_TRUE(t->is_exported("seq_printf"));
  EXPECT_FALSE(t->is_exported("saved_command_line"));
}

}  // namespace
}  // namespace noreboot::klp
