// Reads a kernel module's .modinfo section (the strings `modinfo` prints) from its bytes.
//
// The agent needs the module's name before loading it: the livepatch core names the sysfs
// folder /sys/kernel/livepatch/<name> after the module, and that is what the transition is
// followed through. modpost writes `name=<module>` into .modinfo, next to `livepatch=Y`,
// `vermagic=` and `license=`. The section is found through core's elf_lite (the agent does not
// link the builder's ELF library: it stays small), which checks every offset read from the file
// against its size first, so a truncated or hostile file is an error, never a crash.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace noreboot::agent {

struct ModInfo {
  std::multimap<std::string, std::string> fields;  // key -> value, in file order per key
  std::string get(const std::string& key) const;    // first value or ""
  std::string name() const { return get("name"); }
  bool is_livepatch() const { return get("livepatch") == "Y"; }
};

Result<ModInfo> read_modinfo(std::string_view elf_bytes);

}  // namespace noreboot::agent
