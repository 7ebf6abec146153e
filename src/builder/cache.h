// The builder's kernel cache: what it holds per kernel, and pruning it.
//
// $NOREBOOT_CACHE/kernels/<ABI>/ holds, per kernel: root/ (image, headers, modules unpacked,
// ~0.4 GB), vmlinux (the decompressed image, ~65 MB), tree/ (the prepared source tree, ~2.5 GB:
// the biggest part, and the one that is rebuilt from cached packages in 1-2 minutes), symbols/
// (the -dbg symbol index, ~10 MB), klp-kbuild/ (recorded module-link commands), vm/ (the test
// harness's initramfs) and source-<VERSION>/ (files extracted for the "already fixed" probe).
// $NOREBOOT_CACHE/debs/ holds the downloaded packages, shared by every kernel (the -dbg
// package alone is ~860 MB per kernel).
//
//   noreboot-build cache list                      sizes per kernel and of the downloads
//   noreboot-build cache prune --keep ABI...       remove every other kernel (folder and packages)
//   noreboot-build cache prune --trees [--keep ABI]...   remove only prepared trees (rebuilt on use)
//   noreboot-build cache prune --all               everything
// Each kernel is removed under its tree lock, so a build that is using it finishes first.
// The command line is read in cli.cc.
#pragma once

#include <string>
#include <vector>

#include "builder/cli.h"
#include "core/result.h"

namespace noreboot::builder {

// `cache list`: sizes per kernel and of the downloads.
Result<CliOutcome> cache_list();

// `cache prune`: what to keep, or only the trees, or everything.
struct CachePrune {
  std::vector<std::string> keep;  // ABIs
  bool trees_only = false;        // --trees
  bool everything = false;        // --all
};
Result<CliOutcome> cache_prune(const CachePrune& what);

// `cache --help`.
std::string cache_usage();

}  // namespace noreboot::builder
