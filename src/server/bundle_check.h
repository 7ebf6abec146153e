// Publishing check: the server accepts a .nrp only if it is a well-formed bundle signed by a
// publisher key it trusts (core/bundle.h does the work). It holds public keys only.
#pragma once

#include <string>
#include <vector>

#include "server/api.h"

namespace noreboot::server {

// trust_paths: public key files or folders of *.pub files. With none, every publish is
// refused with a message saying how to configure a key.
Result<BundleVerifier> make_bundle_verifier(const std::vector<std::string>& trust_paths);
// The same for fix records (core/fix_record.h), against the same keys.
Result<FixRecordVerifier> make_fix_record_verifier(const std::vector<std::string>& trust_paths);

}  // namespace noreboot::server
