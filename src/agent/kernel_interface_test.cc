#include "agent/kernel_interface.h"

#include <gtest/gtest.h>

namespace noreboot::agent {
namespace {

TEST(Kmsg, ParsesRecord) {
  auto r = parse_kmsg_record("4,1234,5678901,-;WARNING: CPU: 0 PID: 1 at foo.c:12 bar+0x1/0x2\n"
                             " SUBSYSTEM=acpi\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->level, 4);
  EXPECT_EQ(r->seq, 1234u);
  EXPECT_EQ(r->usec, 5678901u);
  EXPECT_EQ(r->text, "WARNING: CPU: 0 PID: 1 at foo.c:12 bar+0x1/0x2");
}

TEST(Kmsg, FacilityBitsAreMaskedOff) {
  auto r = parse_kmsg_record("30,7,100,c;systemd[1]: hello");  // facility 3 (daemon), level 6
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->level, 6);
}

TEST(Kmsg, MalformedRecordsAreSkipped) {
  EXPECT_FALSE(parse_kmsg_record("no semicolon").has_value());
  EXPECT_FALSE(parse_kmsg_record("x,1,2,-;text").has_value());
  EXPECT_FALSE(parse_kmsg_record("6,1;text").has_value());
  EXPECT_FALSE(parse_kmsg_record("").has_value());
}

}  // namespace
}  // namespace noreboot::agent
