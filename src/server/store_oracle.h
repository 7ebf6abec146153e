// StoreOracle: single-row writes for the store tests, through the one write path production uses.
//
// The server never writes a host's status or a (host, bundle) outcome one row at a time: check-ins
// and reports go through group commit (group_commit.h), which calls Store::apply_writes with a
// batch. The Store interface used to carry record_offer / record_outcome / update_host_status as
// well, each with its own SQL that only the tests ran. They live here now, as one-row batches, so
// a test that sets up an outcome exercises the SQL the server runs. Test-only: nothing under
// src/server links or includes this outside *_test.cc.
#pragma once

#include <cstdint>
#include <string>

#include "server/store.h"

namespace noreboot::server {

class StoreOracle {
 public:
  explicit StoreOracle(Store& store) : store_(store) {}

  // "offered", unless the host already has an outcome for the bundle.
  Status record_offer(const std::string& host_id, const std::string& sha256, std::int64_t now) {
    WriteBatch b;
    b.outcomes.push_back({host_id, sha256, "offered", now});
    return store_.apply_writes(b);
  }
  // "applied" or "failed", replacing what was there.
  Status record_outcome(const std::string& host_id, const std::string& sha256, const std::string& outcome,
                        std::int64_t now) {
    WriteBatch b;
    b.outcomes.push_back({host_id, sha256, outcome, now});
    return store_.apply_writes(b);
  }
  // Kernel, state, applied patch, last_seen and last_error of the host.
  Status update_host_status(const HostRecord& host) {
    WriteBatch b;
    b.statuses.push_back(host);
    return store_.apply_writes(b);
  }

 private:
  Store& store_;
};

}  // namespace noreboot::server
