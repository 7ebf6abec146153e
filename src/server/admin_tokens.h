// Admin tokens the server makes itself: the first one (bootstrap) and the recovery one.
//
// Problem: an installation must never end with no working admin token. Two ways it did: the
// first start committed the bootstrap token and then failed to write DATA/admin.token (a full
// disk), leaving a token nobody holds while its mere existence stopped the next start from
// making another; and the last admin-role token could revoke itself. Approach: the secret is
// written to disk (0600, fsync, atomic rename) before the token is committed, so a failure
// leaves either nothing (the next start tries again) or a file holding a token; the bootstrap
// runs whenever no usable admin-role token exists (read tokens do not count); the API refuses
// to revoke the last admin-role token; and `noreboot-server admin-token` mints a new admin
// token straight in the store for an operator with a shell on the server (who can read the
// store anyway), with an audit entry.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "server/store.h"

namespace noreboot::server {

// Creates an admin-role token named `name`, audited as `audit_action` by "server". `keep`
// (optional) receives the secret before the token is committed; its error stops everything.
Result<std::string> create_admin_token(Store& store, const std::string& name, const std::string& audit_action,
                                       std::int64_t now, const std::function<Status(const std::string&)>& keep = {});

// Writes `text` + "\n" to `path` atomically, mode 0600, synced to disk (file and folder).
Status write_secret_file(const std::string& path, const std::string& text);

}  // namespace noreboot::server
