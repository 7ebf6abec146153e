// Failpoints (see failpoint.h): parse NOREBOOT_FAILPOINTS at each hit and act.
#include "core/failpoint.h"

#ifdef NOREBOOT_FAILPOINTS
#include <csignal>
#include <cstdlib>
#include <string>

#include "core/log.h"

namespace noreboot::failpoint {

bool hit(std::string_view name) {
  const char* env = std::getenv("NOREBOOT_FAILPOINTS");
  if (!env || !*env) return false;
  std::string_view list(env);
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    auto eq = item.find('=');
    std::string_view item_name = item.substr(0, eq);
    std::string_view action = eq == std::string_view::npos ? "kill" : item.substr(eq + 1);
    if (item_name != name) continue;
    if (action == "error") {
      log::warn("failpoint {}: failing the operation (NOREBOOT_FAILPOINTS)", name);
      return true;
    }
    log::warn("failpoint {}: killing the process (NOREBOOT_FAILPOINTS)", name);
    std::raise(SIGKILL);
    std::_Exit(137);  // not reached
  }
  return false;
}

}  // namespace noreboot::failpoint
#endif
