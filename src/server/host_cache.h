// HostCache: host credentials (their SHA-256) to the host they belong to, in memory.
//
// Problem: every agent request (check-in, download, report) authenticates by looking its
// credential up in the hosts table: a read per request on the store's connection, 10 % of the
// server's CPU in a 5,000-agent rollout and a wait behind every commit. Approach: remember
// the host found for a credential hash, and keep its status current from this server's own
// committed writes (the check-in and report handlers update it once their write is durable).
// Credentials are never moved and a host's id, group and tags never change after
// enrollment, so what decides an offer is exact. A revoked credential is forgotten at once by
// the server that revoked it (forget_host) and by the others within `ttl`. Trade-off: with several servers on one
// PostgreSQL, another server's writes change the host's status (state, applied patch,
// last_seen) behind this cache; entries are therefore re-read after `ttl` seconds. A stale
// status costs at most a redundant status write or a repeated "applied" history event,
// never a wrong offer: offers are decided from what the agent reports in the request.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/store.h"

namespace noreboot::server {

class HostCache {
 public:
  explicit HostCache(std::int64_t ttl_seconds) : ttl_(ttl_seconds) {}

  // The cached host, or nullopt when unknown or older than the ttl (read it from the store).
  std::optional<HostRecord> find(const std::string& credential_hash, std::int64_t now) const {
    std::lock_guard lock(mu_);
    auto it = map_.find(credential_hash);
    if (it == map_.end() || now - it->second.loaded_at >= ttl_ || now < it->second.loaded_at)
      return std::nullopt;
    return it->second.host;
  }
  // A host just read from the store.
  void put(const std::string& credential_hash, HostRecord host, std::int64_t now) {
    std::lock_guard lock(mu_);
    map_[credential_hash] = {std::move(host), now};
  }
  // A status this server has just committed (keeps the time it was last read).
  void update(const std::string& credential_hash, const HostRecord& host) {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(credential_hash); it != map_.end()) it->second.host = host;
  }
  // Drops the entries of host `id` (its credential was revoked).
  void forget_host(const std::string& id) {
    std::lock_guard lock(mu_);
    for (auto it = map_.begin(); it != map_.end();) it = it->second.host.id == id ? map_.erase(it) : std::next(it);
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return map_.size();
  }

 private:
  struct Entry {
    HostRecord host;
    std::int64_t loaded_at = 0;
  };
  std::int64_t ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace noreboot::server
