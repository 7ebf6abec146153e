// Dashboard sessions (see dashboard_session.h for why they exist and what they protect).
#include "server/dashboard_session.h"

#include <sodium.h>

#include <cstdlib>

#include "core/bytes.h"

namespace noreboot::server {
namespace {

std::string random_id() { return random_hex(32); }

}  // namespace

DashboardSession DashboardSessions::create(const std::string& token_hash, std::int64_t now) {
  if (sodium_init() < 0) std::abort();  // idempotent; randomness below needs it
  DashboardSession s{random_id(), token_hash, random_id(), now + kLifetimeSeconds};
  std::lock_guard lock(mu_);
  while (order_.size() >= max_ && !order_.empty()) {
    by_id_.erase(order_.front().id);
    order_.pop_front();
  }
  order_.push_back(s);
  by_id_[s.id] = std::prev(order_.end());
  return s;
}

std::optional<DashboardSession> DashboardSessions::find(const std::string& id, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  if (it->second->expires_at <= now) {
    order_.erase(it->second);
    by_id_.erase(it);
    return std::nullopt;
  }
  return *it->second;
}

void DashboardSessions::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  order_.erase(it->second);
  by_id_.erase(it);
}

std::size_t DashboardSessions::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

std::string DashboardSessions::form_token(const DashboardSession& s, const std::string& action_path) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(s.secret.data()), s.secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(action_path.data()), action_path.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return to_hex(mac);
}

bool DashboardSessions::form_token_ok(const DashboardSession& s, const std::string& action_path,
                                      const std::string& token) {
  std::string want = form_token(s, action_path);
  if (token.size() != want.size()) return false;
  return sodium_memcmp(want.data(), token.data(), want.size()) == 0;
}

std::string DashboardSessions::cookie_value(const std::string& cookie_header) {
  // "a=b; nr_session=…; c=d": find the name at the start or after "; ".
  const std::string name = std::string(kCookie) + "=";
  std::size_t pos = 0;
  while (pos < cookie_header.size()) {
    while (pos < cookie_header.size() && (cookie_header[pos] == ' ' || cookie_header[pos] == ';')) ++pos;
    auto end = cookie_header.find(';', pos);
    std::string part = cookie_header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.compare(0, name.size(), name) == 0) return part.substr(name.size());
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

}  // namespace noreboot::server
