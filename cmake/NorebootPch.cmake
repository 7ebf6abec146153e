# Precompiled headers: parse the standard library and nlohmann/json once per build, not once per
# file (docs/benchmarks.md, "Compiling noreboot").
#
#   -DNOREBOOT_PCH=ON|OFF     precompiled headers; unset: on, except with NOREBOOT_WERROR
#                             (scripts/test), see below
#   -DNOREBOOT_DEBUG_INFO=lines  -g1 (line tables: backtraces and perf, no variables for gdb);
#                             scripts/demo builds this way. Default "full": RelWithDebInfo's -g.
#
# Most of a noreboot file's compile time is spent before its first line of its own: <filesystem>,
# <map>, <sstream>, ... and above all <nlohmann/json.hpp> (2.6 CPU-seconds to parse on its own,
# included by most files directly or through core/json_fields.h). A precompiled header turns
# that into loading a memory image. GCC uses a precompiled header only when the code model
# matches: a library's files are compiled -fPIC, an executable's -fPIE, so there are two
# hosts, each compiling the header once, and every other target reuses one of them
# (REUSE_FROM): every static library of the project reuses noreboot_pch_lib's, every GoogleTest
# binary reuses noreboot_pch_test's (which adds <gtest/gtest.h> and <gmock/gmock.h>). The thin
# mains and the fuzz drivers stay without: they are small, and the agent's main must not pull
# <iostream>'s static initializer into its static binary. Macros given with -D (e.g.
# NOREBOOT_SOURCE_DIR, TOML_HEADER_ONLY) do not matter: the headers in the list never read them.
# CMake passes -Winvalid-pch, so a header that GCC refused is reported, not silently slow.
#
# Warnings: GCC 12 loses the "system header" mark of code that comes from a precompiled
# header, so a false positive inside libstdc++ that it normally keeps quiet (-Warray-bounds on
# std::string's operator+, bug 105651; measured in core/keys.cc and diff/differ.cc) is
# reported against our files. With a precompiled header, GCC builds therefore pass
# -Wno-array-bounds; and the warnings-are-errors build (NOREBOOT_WERROR, scripts/test) compiles
# without precompiled headers by default, so CI keeps every warning, -Warray-bounds included.
#
# ccache: a file compiled with a precompiled header is cached only with sloppiness
# pch_defines,time_macros; when the C++ launcher is ccache, it is run through `env` with
# CCACHE_SLOPPINESS set (which replaces a sloppiness from ccache.conf for these compiles).

# Decided at every configure, not cached on the first: a build folder the demo configured
# (no NOREBOOT_WERROR) that scripts/test then configures with NOREBOOT_WERROR=ON drops them.
set(NOREBOOT_PCH "" CACHE STRING "Precompiled headers: ON, OFF, or empty for ON unless NOREBOOT_WERROR")
if(NOREBOOT_PCH STREQUAL "")
  if(NOREBOOT_WERROR)
    set(NOREBOOT_PCH OFF)
  else()
    set(NOREBOOT_PCH ON)
  endif()
endif()
set(NOREBOOT_DEBUG_INFO "full" CACHE STRING "Debug info of RelWithDebInfo builds: full (-g) or lines (-g1)")
set_property(CACHE NOREBOOT_DEBUG_INFO PROPERTY STRINGS full lines)
if(NOREBOOT_DEBUG_INFO STREQUAL "lines")
  target_compile_options(noreboot_options INTERFACE -g1)   # after the build type's -g: the last -g wins
elseif(NOT NOREBOOT_DEBUG_INFO STREQUAL "full")
  message(FATAL_ERROR "NOREBOOT_DEBUG_INFO is '${NOREBOOT_DEBUG_INFO}': use full (-g) or lines (-g1)")
endif()

# -DNOREBOOT_OPT_LEVEL=1: -O1 over the build type's -O2 (the last -O wins); empty: the build
# type's own. For builds whose binaries are run for a short while, not shipped (scripts/demo):
# GCC's -O2 passes are about a fifth of a noreboot file's compile time.
set(NOREBOOT_OPT_LEVEL "" CACHE STRING "Optimisation level over the build type's: empty, 0, 1, 2, 3, s or g")
if(NOT NOREBOOT_OPT_LEVEL STREQUAL "")
  if(NOT NOREBOOT_OPT_LEVEL MATCHES "^[0123sg]$")
    message(FATAL_ERROR "NOREBOOT_OPT_LEVEL is '${NOREBOOT_OPT_LEVEL}': use 0, 1, 2, 3, s or g (-O0 ... -Og), or empty for the build type's")
  endif()
  target_compile_options(noreboot_options INTERFACE -O${NOREBOOT_OPT_LEVEL})
endif()

set(NOREBOOT_PCH_HEADERS
  <algorithm> <array> <atomic> <chrono> <cstdint> <cstdio> <cstdlib> <cstring> <filesystem>
  <fstream> <functional> <map> <memory> <mutex> <optional> <set> <span> <sstream> <string>
  <string_view> <unordered_map> <utility> <vector> <nlohmann/json.hpp>)

if(NOREBOOT_PCH)
  if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache" AND NOT CMAKE_CXX_COMPILER_LAUNCHER MATCHES "SLOPPINESS")
    find_program(NOREBOOT_ENV env REQUIRED)
    # A normal variable in front of the cache entry: every target made after this uses it.
    set(CMAKE_CXX_COMPILER_LAUNCHER ${NOREBOOT_ENV} CCACHE_SLOPPINESS=pch_defines,time_macros
        ${CMAKE_CXX_COMPILER_LAUNCHER})
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(noreboot_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-array-bounds>)
  endif()
  find_package(nlohmann_json 3 REQUIRED)
  find_package(GTest REQUIRED)
  add_library(noreboot_pch_lib STATIC ${CMAKE_CURRENT_LIST_DIR}/pch_host_lib.cc)
  target_link_libraries(noreboot_pch_lib PRIVATE noreboot_options nlohmann_json::nlohmann_json)
  target_precompile_headers(noreboot_pch_lib PRIVATE ${NOREBOOT_PCH_HEADERS})
  add_executable(noreboot_pch_test ${CMAKE_CURRENT_LIST_DIR}/pch_host_test.cc)
  target_link_libraries(noreboot_pch_test PRIVATE noreboot_options nlohmann_json::nlohmann_json
    GTest::gtest GTest::gmock)
  target_precompile_headers(noreboot_pch_test PRIVATE ${NOREBOOT_PCH_HEADERS} <gtest/gtest.h> <gmock/gmock.h>)
endif()

# noreboot_use_pch_in(DIR...): every static library made so far in these source folders (and below)
# reuses the library header. Called once by the top-level CMakeLists after the parts are added,
# so a part's CMakeLists needs nothing.
function(noreboot_use_pch_in)
  if(NOT NOREBOOT_PCH)
    return()
  endif()
  noreboot_static_libraries_in(libraries ${ARGN})
  foreach(target IN LISTS libraries)
    get_target_property(pch ${target} PRECOMPILE_HEADERS_REUSE_FROM)
    if(NOT pch)
      target_precompile_headers(${target} REUSE_FROM noreboot_pch_lib)
    endif()
  endforeach()
endfunction()
