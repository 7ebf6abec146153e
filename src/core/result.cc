#include "core/result.h"

namespace noreboot {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::invalid_input: return "invalid_input";
    case Errc::not_found: return "not_found";
    case Errc::io: return "io";
    case Errc::signature: return "signature";
    case Errc::integrity: return "integrity";
    case Errc::refused: return "refused";
    case Errc::unsupported: return "unsupported";
    case Errc::conflict: return "conflict";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace noreboot
