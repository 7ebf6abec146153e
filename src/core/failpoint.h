// Failpoints: named places where a fault test can crash the process or fail an operation.
//
// Problem: some promises are about what survives a crash at one exact moment ("a kill between
// the halt's two writes leaves the bundle blocked"), and a test cannot hit a window of a few
// microseconds by sending SIGKILL from outside. Approach: the code names the moment,
// `failpoint::hit("store.halt.between_writes")`, and the test starts the process with
// NOREBOOT_FAILPOINTS set to a comma-separated list of `NAME` or `NAME=ACTION`:
//   kill   (the default) raise SIGKILL right there: no destructor, no flush, like a power cut
//          of the process (the database sees a dropped connection);
//   error  hit() returns true once per call: the caller fails as if its I/O had failed.
// Unnamed failpoints cost one getenv per call.
//
// Compiled in only when the build defines NOREBOOT_FAILPOINTS (CMake option of that name: on
// for test and development builds, off for Release, which is how packages are built). Without
// it hit() is a constant false and the names vanish from the binary, so a shipped server
// cannot be crashed through its environment.
#pragma once

#include <string_view>

namespace noreboot::failpoint {

#ifdef NOREBOOT_FAILPOINTS
inline constexpr bool kCompiledIn = true;
// Kills the process or returns true when NOREBOOT_FAILPOINTS names `name`; else false.
bool hit(std::string_view name);
#else
inline constexpr bool kCompiledIn = false;
inline bool hit(std::string_view) { return false; }
#endif

}  // namespace noreboot::failpoint
