// Reading a fix: which files a unified diff touches, and how.
//
// Problem: everything the builder compiles follows from the list of files in the patch, so
// this list must be exact: a file missed here is a change silently missing from the livepatch.
// Approach: a line-oriented reader of unified diffs (as `diff -u`, `git diff` and
// `git format-patch` write them): "--- old" / "+++ new" pairs, with /dev/null for added and
// deleted files, and git's "rename from/to" and binary markers. Hunks are counted, not applied:
// applying is left to patch(1), which the builder runs on copies (see compile.h).
// Trade-off: we do not try to understand every diff dialect; anything we cannot read (a
// context diff, a "Binary files differ" line, a hunk without a file header) is an error
// naming the line, never a guess.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace noreboot::builder {

enum class ChangeKind { modified, added, deleted, renamed };

struct FileChange {
  std::string path;      // path in the tree after stripping (new path; old path for deletions)
  std::string old_path;  // differs from path for renames
  ChangeKind kind = ChangeKind::modified;
  int hunks = 0;
};

struct PatchSet {
  std::vector<FileChange> files;
  int strip = 1;         // the -p level patch(1) needs
};

// Parses TEXT (NAME is used in messages). The strip level is 1 when every path carries a
// one-component prefix (a/ b/), else 0.
Result<PatchSet> parse_patch(std::string_view text, std::string_view name);

std::string_view change_kind_name(ChangeKind kind);

}  // namespace noreboot::builder
