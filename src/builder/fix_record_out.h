// The fix record of a multi-kernel build: DIR/fix.json + DIR/fix.sig beside the bundles.
//
// What the build found for each kernel (core/fix_record.h has the format and the reasons),
// signed with the key the bundles are signed with, so the server can trust the record's
// "already fixed" and "does not apply" as much as the bundles. Each built kernel's bundle is
// read back from DIR and named by the SHA-256 of its file, its build ID, module and sequence
// from its own signed manifest, so the record says exactly what was written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/build.h"
#include "builder/kernels.h"
#include "core/fix_record.h"

namespace noreboot::builder {

// The record for these reports (not signed yet). Errc::invalid_argument when the build named no
// fix id (--fix ID:text): a record is about fix ids.
Result<FixRecord> make_fix_record(const BuildConfig& config, const std::vector<KernelReport>& reports);

// Writes DIR/fix.json and DIR/fix.sig. Returns a one-line note for the summary; without --fix
// nothing is written and the note says why.
Result<std::string> write_build_fix_record(const std::filesystem::path& dir, const BuildConfig& config,
                                           const std::vector<KernelReport>& reports);

}  // namespace noreboot::builder
