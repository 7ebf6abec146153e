// The three kinds of secret the server hands out, told apart by their first four characters.
//
// An admin token (nra_), an enrollment token (nre_) and a host credential (nrh_) are all
// random hex after their prefix; the server stores only their SHA-256. The prefix lets the
// server refuse the wrong kind before any store lookup, and tells an operator what a leaked
// string is. They are spelled here once; everything else asks these functions.
#pragma once

#include <string>
#include <string_view>

namespace noreboot::server {

inline constexpr std::string_view kAdminTokenPrefix = "nra_";
inline constexpr std::string_view kEnrollmentTokenPrefix = "nre_";
inline constexpr std::string_view kHostCredentialPrefix = "nrh_";

inline bool is_admin_token(std::string_view s) { return s.starts_with(kAdminTokenPrefix); }
inline bool is_enrollment_token(std::string_view s) { return s.starts_with(kEnrollmentTokenPrefix); }
inline bool is_host_credential(std::string_view s) { return s.starts_with(kHostCredentialPrefix); }

// A new secret: the prefix and 24 random bytes in hex (random_hex, api_impl.h).
std::string new_secret(std::string_view prefix);

}  // namespace noreboot::server
