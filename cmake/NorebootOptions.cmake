# One INTERFACE target carries the language standard, warnings and sanitizers for every
# target of the project: link `noreboot_options` and nothing else needs repeating.
#
#   -DNOREBOOT_SANITIZE=ON   AddressSanitizer + UndefinedBehaviorSanitizer (scripts/test runs it)
#   -DNOREBOOT_FUZZ=ON       libFuzzer targets (needs clang: CC=clang CXX=clang++)
#   -DNOREBOOT_WERROR=ON     every warning is an error (scripts/test builds this way, so a
#                            warning cannot land; off by default so a newer compiler's new
#                            warnings do not stop a user's build)
#   -DNOREBOOT_FAILPOINTS=ON named crash points for the fault tests (core/failpoint.h); on by
#                            default except in Release builds, so packages (scripts/package
#                            builds Release) carry none
option(NOREBOOT_SANITIZE "Build with ASan and UBSan" OFF)
option(NOREBOOT_WERROR "Treat warnings as errors" OFF)
option(NOREBOOT_FUZZ "Build libFuzzer targets (clang only)" OFF)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

if(CMAKE_BUILD_TYPE STREQUAL "Release")
  set(NOREBOOT_FAILPOINTS_DEFAULT OFF)
else()
  set(NOREBOOT_FAILPOINTS_DEFAULT ON)
endif()
option(NOREBOOT_FAILPOINTS "Compile in the failpoints of the fault tests (never in packages)" ${NOREBOOT_FAILPOINTS_DEFAULT})

add_library(noreboot_options INTERFACE)
if(NOREBOOT_FAILPOINTS)
  target_compile_definitions(noreboot_options INTERFACE NOREBOOT_FAILPOINTS=1)
endif()
target_compile_features(noreboot_options INTERFACE cxx_std_20)
target_compile_options(noreboot_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough
  -Wno-missing-field-initializers)
if(NOREBOOT_WERROR)
  target_compile_options(noreboot_options INTERFACE -Werror)
endif()
if(NOREBOOT_FUZZ)
  # Coverage instrumentation for every library a fuzz target links, not just the target's own
  # file: without it libFuzzer sees only the entry point and cannot steer into the parsers.
  target_compile_options(noreboot_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(noreboot_options INTERFACE -fsanitize=address,undefined)
endif()
if(NOREBOOT_SANITIZE)
  target_compile_options(noreboot_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(noreboot_options INTERFACE -fsanitize=address,undefined)
endif()

# noreboot_add_gtest(NAME SOURCES... LIBS ... [EXCLUDE PATTERN] [KERNEL PATTERN]): a GoogleTest
# binary registered with ctest under the label "unit" (fast, no kernel, no network beyond
# loopback). EXCLUDE keeps the tests matching a gtest pattern out of the unit tier, for cases
# another tier runs with what they need (e.g. the PostgreSQL variants, which the store tier runs
# against a real server). KERNEL moves the tests matching a pattern (e.g. "RealKernel*") out of
# the unit tier into one ctest NAME_kernel with the label "kernel": they read the kernel cache
# and fail without it (src/core/test_kernel_cache.h; scripts/test prepares the cache).
function(noreboot_add_gtest name)
  cmake_parse_arguments(T "" "EXCLUDE;KERNEL" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock noreboot_options)
  if(NOREBOOT_PCH)
    target_precompile_headers(${name} REUSE_FROM noreboot_pch_test)   # cmake/NorebootPch.cmake
  endif()
  set(labels unit ${T_LABELS})
  set(excluded "${T_EXCLUDE}")
  if(T_KERNEL)
    if(excluded)
      set(excluded "${excluded}:${T_KERNEL}")
    else()
      set(excluded "${T_KERNEL}")
    endif()
    add_test(NAME ${name}_kernel COMMAND ${name} --gtest_filter=${T_KERNEL})
    set_tests_properties(${name}_kernel PROPERTIES LABELS kernel TIMEOUT 900)
  endif()
  set(filter "")
  if(excluded)
    set(filter TEST_FILTER "-${excluded}")
  endif()
  gtest_discover_tests(${name} ${filter} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
endfunction()

# noreboot_add_fuzzer(NAME SOURCE LIBS ... CORPUS DIR): with NOREBOOT_FUZZ a libFuzzer binary,
# and its seed corpus runs under ctest (label "fuzz"). Without it, the same entry point is
# linked to a tiny driver that replays the corpus, so the seeds run in every build.
function(noreboot_add_fuzzer name)
  cmake_parse_arguments(F "" "SOURCE;CORPUS" "LIBS" ${ARGN})
  if(NOREBOOT_FUZZ)
    add_executable(${name} ${F_SOURCE})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ${F_LIBS} noreboot_options)
    add_test(NAME ${name}_seeds COMMAND ${name} -runs=0 ${F_CORPUS})
  else()
    add_executable(${name} ${F_SOURCE} ${PROJECT_SOURCE_DIR}/cmake/fuzz_replay_main.cc)
    target_link_libraries(${name} PRIVATE ${F_LIBS} noreboot_options)
    add_test(NAME ${name}_seeds COMMAND ${name} ${F_CORPUS})
  endif()
  set_tests_properties(${name}_seeds PROPERTIES LABELS fuzz)
endfunction()

# noreboot_static_libraries_in(OUT DIR...): the project's static libraries made so far in these
# source folders and below (the precompiled header and the unity build are applied to them once,
# from the top-level CMakeLists, so a part's CMakeLists needs nothing).
function(noreboot_static_libraries_in out)
  set(found "")
  set(dirs ${ARGN})
  while(dirs)
    list(POP_FRONT dirs dir)
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subdirs})
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type STREQUAL "STATIC_LIBRARY" AND NOT target STREQUAL "noreboot_pch_lib")
        list(APPEND found ${target})
      endif()
    endforeach()
  endwhile()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
