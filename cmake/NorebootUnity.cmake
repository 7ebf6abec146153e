# Unity builds: each static library of the project is compiled in batches of up to 16 of its
# .cc files, one compiler run per batch (CMake's UNITY_BUILD), instead of one run per file.
#
#   -DNOREBOOT_UNITY=ON|OFF   default OFF: a developer's edit recompiles one file, not its batch.
#   -DNOREBOOT_UNITY_BATCH=N  files per batch (default 16; 0 = a whole library in one run).
#
# Who turns it on: scripts/demo (a newcomer's first wait) and scripts/test's main build (so the
# configuration the demo compiles is the one every tier, VM and demo tests included, runs).
# scripts/test's sanitizer build keeps it off, so each file is still compiled on its own there:
# a .cc that forgot an #include a neighbour in its batch supplied fails that build.
#
# Why it pays (docs/benchmarks.md, "Compiling noreboot"): most of a noreboot file's compile time
# is a fixed price, not its own lines. Every run loads the precompiled header (about 100 MB of
# memory image, paid mostly in system time), instantiates the same nlohmann::json and std
# templates again, and writes their code and line tables again for the linker to drop. On 2
# cores, back to back, scripts/demo's build took 491.1 CPU-s in 127 runs, and 229.8 CPU-s in 22
# runs with batches of 16. The price is a developer's rebuild: touching one file recompiles its
# whole batch (17-20 s instead of 4-6 s for one server or core file), hence OFF by default.
#
# What a batch asks of the code, since up to 16 files become one translation unit:
#  - no two files of a library define the same name in an anonymous namespace or as `static`
#    (share it in a header instead, as elf::bind_name is);
#  - a header whose macros collide with the project's names stays out of batches: the system
#    <elf.h> defines SHF_ALLOC, STB_LOCAL, ... as macros, which break the elf:: constants of
#    the files after it; src/klp marks its two <elf.h> readers SKIP_UNITY_BUILD_INCLUSION;
#  - a `using namespace` at namespace scope also reaches the files after it in the batch.
# Most breaks show up as compile errors in the unity build, which scripts/test builds; two
# same-named private functions with different parameters become overloads instead and compile,
# so name private helpers for what they do.
option(NOREBOOT_UNITY "Compile each static library in batches of files (CMake unity build)" OFF)
set(NOREBOOT_UNITY_BATCH 16 CACHE STRING "Files per unity batch (0: a whole library at once)")

# noreboot_unity_build_in(DIR...): with NOREBOOT_UNITY, every static library made so far in these
# source folders (and below) is compiled in batches. Test and tool executables are not: their
# files are small, and test files share helper names freely.
function(noreboot_unity_build_in)
  if(NOT NOREBOOT_UNITY)
    return()
  endif()
  if(NOT NOREBOOT_UNITY_BATCH MATCHES "^[0-9]+$")
    message(FATAL_ERROR "NOREBOOT_UNITY_BATCH is '${NOREBOOT_UNITY_BATCH}': use a number of files (0: a whole library)")
  endif()
  noreboot_static_libraries_in(libraries ${ARGN})
  set_target_properties(${libraries} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${NOREBOOT_UNITY_BATCH})
endfunction()
