// noreboot-klp: the klp part's tools on the command line (for tests and for people).
//   noreboot-klp index --abi ABI                      build (or load) the vmlinux symbol index
//   noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "klp/symbol_cache.h"

using namespace noreboot;
using namespace noreboot::klp;

namespace {

int usage() {
  std::cerr << "usage: noreboot-klp index --abi ABI\n"
               "       noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME\n";
  return 2;
}

int fail(const Error& e) {
  std::cerr << "noreboot-klp: " << e.message() << "\n";
  return e.code() == Errc::unsupported ? 3 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  std::string cmd = args[0], abi, module, file, name;
  bool local = false;
  for (size_t i = 1; i < args.size(); ++i) {
    auto next = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (args[i] == "--abi") abi = next();
    else if (args[i] == "--module") module = next();
    else if (args[i] == "--file") file = next();
    else if (args[i] == "--local") local = true;
    else if (!args[i].empty() && args[i][0] != '-' && name.empty()) name = args[i];
    else return usage();
  }
  if (abi.empty()) return usage();
  auto k = kernel_files_for(abi);
  if (cmd == "index") {
    auto idx = ensure_vmlinux_index(k);
    if (!idx) return fail(idx.error());
    std::cout << vmlinux_index_path(k) << " " << idx->symbols().size() << " symbols\n";
    return 0;
  }
  if (cmd == "resolve" && !name.empty()) {
    auto idx = module.empty() ? ensure_vmlinux_index(k) : module_index(k, module);
    if (!idx) return fail(idx.error());
    auto r = idx->resolve({name, local, file, {}});
    if (!r) return fail(r.error());
    std::cout << name << " sympos " << r->sympos << " addr " << std::hex << r->symbol->addr << std::dec << " of "
              << r->same_name_count << "\n";
    return 0;
  }
  return usage();
}
