// Offer checks (see offer_check.h).
#include "agent/offer_check.h"

namespace noreboot::agent {
namespace {

// For error messages: printable ASCII kept, anything else '?', at most 80 characters.
std::string visible(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(c > 0x20 && c < 0x7f ? c : '?');
  return out;
}

}  // namespace

Status check_offer(const api::Offer& offer) {
  const std::string want = "/v1/bundles/" + offer.sha256;
  if (!api::is_sha256_hex(offer.sha256))
    return Error(Errc::refused, "offer: sha256 '" + visible(offer.sha256) + "' is not 64 lowercase hex characters");
  if (offer.url != want)
    return Error(Errc::refused, "offer: url '" + visible(offer.url) + "' is not " + want +
                                    ": refusing to fetch it (the host credential goes only to this server's bundle path)");
  if (offer.size == 0 || offer.size > kMaxOfferedBundleBytes)
    return Error(Errc::refused, "offer: size " + std::to_string(offer.size) + " is not a bundle's (1 to " +
                                    std::to_string(kMaxOfferedBundleBytes) + " bytes)");
  return ok_status();
}

std::string printable_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.';
    out.push_back(ok ? c : '?');
  }
  return out;
}

}  // namespace noreboot::agent
