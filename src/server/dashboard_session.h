// Dashboard sessions: what a browser holds instead of a token.
//
// Problem: the dashboard used to keep the raw admin token in a cookie, and the API accepted
// that cookie for every call, writes included, so any form on a site of the same domain could
// act as the admin (issue 17, item 8). Approach: logging in exchanges the token for a random
// session id kept only in this server's memory; the cookie carries the id (HttpOnly,
// SameSite=Strict, Secure under TLS), is good only for the dashboard's own pages, and the API
// never reads it. The session remembers the SHA-256 of the token, not the token, so every page
// view can re-check that the token is still valid (a revoked token logs its sessions out).
// Every state-changing form carries a token derived from the session's own secret and the
// form's action path (HMAC-SHA-256), so a request forged elsewhere cannot name it.
// Trade-off: sessions live in one server's memory: a restart logs everyone out, and several
// servers behind a load balancer need sticky sessions for the dashboard (the API is unaffected).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace noreboot::server {

struct DashboardSession {
  std::string id;          // the cookie value (random, 256 bits, hex)
  std::string token_hash;  // SHA-256 hex of the admin or read token that logged in
  std::string secret;      // key of this session's form tokens (random, 256 bits)
  std::int64_t expires_at = 0;
};

class DashboardSessions {
 public:
  static constexpr std::int64_t kLifetimeSeconds = 8 * 3600;
  static constexpr std::size_t kMaxSessions = 10000;
  static constexpr const char* kCookie = "nr_session";

  explicit DashboardSessions(std::size_t max_sessions = kMaxSessions) : max_(max_sessions) {}

  // A new session for the token with this hash; evicts the oldest when full.
  DashboardSession create(const std::string& token_hash, std::int64_t now);
  // The live session with this id (expired ones are removed on the way).
  std::optional<DashboardSession> find(const std::string& id, std::int64_t now);
  void remove(const std::string& id);
  std::size_t size() const;

  // The form token for an action path ("/rollouts/r_…/halt") in this session, and its check
  // (constant time).
  static std::string form_token(const DashboardSession& s, const std::string& action_path);
  static bool form_token_ok(const DashboardSession& s, const std::string& action_path, const std::string& token);

  // The session id in a Cookie header ("" when there is none).
  static std::string cookie_value(const std::string& cookie_header);

 private:
  mutable std::mutex mu_;
  std::size_t max_;
  std::list<DashboardSession> order_;  // oldest first
  std::unordered_map<std::string, std::list<DashboardSession>::iterator> by_id_;
};

}  // namespace noreboot::server
