// What the agent accepts from an offer before it acts on it.
//
// Problem: the offer's fields come from the network and were trusted as they came. Its `url`
// was appended to the server's base URL and fetched with the host credential, so an offer
// url of "@otherhost/x" sent the credential to another host; its `patch_name` went into the
// sd_notify status message, where a newline starts a new notify assignment (READY=1,
// WATCHDOG=trigger, ...). Approach: the url must be exactly "/v1/bundles/<the offer's
// sha256>" (anything else is refused and reported, and nothing is fetched); the size must be
// one a bundle can have (the download is then capped at it, see http::Client::download); and
// the name is shown only through printable_name, which keeps the characters a module name
// may have.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/api_types.h"
#include "core/result.h"

namespace noreboot::agent {

// The largest bundle an offer may announce (the server's default limit is 64 MiB).
inline constexpr std::uint64_t kMaxOfferedBundleBytes = 1ULL << 30;

// ok, or Errc::refused naming the field that is wrong.
Status check_offer(const api::Offer& offer);

// `name` with every character outside [A-Za-z0-9_.-] replaced by '?', cut to 64 characters:
// safe in an sd_notify message and a log line.
std::string printable_name(std::string_view name);

}  // namespace noreboot::agent
