// noreboot-klp: the klp part's tools on the command line (for tests and for people). The
// commands and options are in cli.h; this file runs them. Exit codes: 0 ok, 1 error, 2 usage,
// 3 refused (the patch cannot be made safely).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "klp/cli.h"
#include "klp/module_gen.h"
#include "klp/symbol_cache.h"

using namespace noreboot;
using namespace noreboot::klp;

namespace {

int fail(const Error& e) {
  std::cerr << "noreboot-klp: " << e.message() << "\n";
  return e.code() == Errc::unsupported ? 3 : (e.code() == Errc::invalid_argument ? 2 : 1);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_klp_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::cerr << "noreboot-klp: " << parsed.error().message() << "\n" << kKlpUsage;
    return 2;
  }
  const KlpCommandLine& c = *parsed;
  if (c.command == KlpCommandLine::Command::help) {
    std::cout << kKlpUsage;
    return 0;
  }
  auto k = kernel_files_for(c.abi);
  if (c.command == KlpCommandLine::Command::index) {
    auto idx = ensure_vmlinux_index(k);
    if (!idx) return fail(idx.error());
    std::cout << vmlinux_index_path(k) << " " << idx->symbols().size() << " symbols\n";
    return 0;
  }
  if (c.command == KlpCommandLine::Command::resolve) {
    auto idx = c.module.empty() ? ensure_vmlinux_index(k) : module_index(k, c.module);
    if (!idx) return fail(idx.error());
    auto r = idx->resolve({c.symbol, c.local, c.file, {}});
    if (!r) return fail(r.error());
    std::cout << c.symbol << " sympos " << r->sympos << " addr " << std::hex << r->symbol->addr << std::dec << " of "
              << r->same_name_count << "\n";
    return 0;
  }
  // module
  ModuleRequest req;
  req.module_name = c.module_name;
  req.objects = c.objects;
  req.kernel = k;
  req.output = c.output;
  req.workdir = c.workdir.empty() ? c.output + ".work" : c.workdir;
  if (c.kbuild) req.link = ModuleRequest::Link::kbuild;
  if (!c.sign_key.empty()) req.signing = SigningKey{c.sign_key, c.sign_cert, "sha256"};
  auto r = build_livepatch_module(req);
  if (!r) return fail(r.error());
  std::cout << r->ko << ": " << r->klp_relocations << " livepatch relocation(s)";
  for (const auto& s : r->times) std::cout << ", " << s.step << " " << s.seconds << " s";
  std::cout << "\n";
  for (const auto& p : r->plans) {
    for (const auto& f : p.functions)
      std::cout << "  func " << p.target << " " << f.old_name << "," << f.old_sympos << "\n";
    for (const auto& s : p.symbols) std::cout << "  sym  " << s.klp_name << " in .klp.rela." << s.rela_object << "\n";
    for (const auto& ns : p.imported_namespaces) std::cout << "  ns   " << ns << "\n";
    for (const auto& l : p.linked_inside) std::cout << "  link " << l << "\n";
  }
  return 0;
}
