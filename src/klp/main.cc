// noreboot-klp: the klp part's tools on the command line (for tests and for people).
//   noreboot-klp index --abi ABI
//       build (or load) the vmlinux symbol index from the cached -dbg package
//   noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME
//       print the sympos of a kernel symbol
//   noreboot-klp module --abi ABI --name NAME -o OUT.ko [--workdir DIR] [--kbuild]
//       [--sign-key KEY.pem --sign-cert CERT.pem]
//       (--object PATCH.o [--target vmlinux|MODULE] [--func NAME]... [--local REF[=FILE.c]]...)...
//       turn differ output objects into a livepatch module; --local marks an undefined
//       reference that was a static symbol of the unit (FILE.c: its STT_FILE name, default the
//       object's own)
// Exit codes: 0 ok, 1 error, 2 usage, 3 refused (the patch cannot be made safely).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "klp/module_gen.h"
#include "klp/symbol_cache.h"

using namespace noreboot;
using namespace noreboot::klp;

namespace {

int usage() {
  std::cerr << "usage: noreboot-klp index --abi ABI\n"
               "       noreboot-klp resolve --abi ABI [--module M] [--local --file F.c] NAME\n"
               "       noreboot-klp module --abi ABI --name NAME -o OUT.ko [--workdir DIR] [--kbuild]\n"
               "           [--sign-key KEY.pem --sign-cert CERT.pem]\n"
               "           (--object P.o [--target vmlinux|MOD] [--func F]... [--local REF[=FILE.c]]...)...\n";
  return 2;
}

int fail(const Error& e) {
  std::cerr << "noreboot-klp: " << e.message() << "\n";
  return e.code() == Errc::unsupported ? 3 : (e.code() == Errc::invalid_argument ? 2 : 1);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  std::string cmd = args[0], abi, module, file, name, out, workdir, mod_name;
  bool local = false, use_kbuild = false;
  std::string sign_key, sign_cert;
  std::vector<PatchObject> objects;
  for (size_t i = 1; i < args.size(); ++i) {
    auto has_next = i + 1 < args.size();
    auto next = [&]() -> std::string { return args[++i]; };
    const std::string& a = args[i];
    bool takes_value = a == "--abi" || a == "--module" || a == "--file" || a == "--name" || a == "-o" ||
                       a == "--workdir" || a == "--object" || a == "--sign-key" || a == "--sign-cert" || a == "--target" || a == "--func" ||
                       (a == "--local" && cmd == "module");
    if (takes_value && !has_next) return usage();
    if (a == "--abi") abi = next();
    else if (a == "--module") module = next();
    else if (a == "--file") file = next();
    else if (a == "--name") mod_name = next();
    else if (a == "-o") out = next();
    else if (a == "--workdir") workdir = next();
    else if (a == "--kbuild") use_kbuild = true;
    else if (a == "--sign-key") sign_key = next();
    else if (a == "--sign-cert") sign_cert = next();
    else if (a == "--object") {
      objects.push_back({});
      objects.back().path = next();
      objects.back().input.target = "vmlinux";
    } else if ((a == "--target" || a == "--func" || (a == "--local" && cmd == "module")) && objects.empty()) {
      return usage();
    } else if (a == "--target") objects.back().input.target = next();
    else if (a == "--func") objects.back().input.functions.push_back({next(), ""});
    else if (a == "--local" && cmd == "module") {
      std::string v = next();
      auto eq = v.find('=');
      ReferenceInfo info{true, eq == std::string::npos ? "" : v.substr(eq + 1)};
      objects.back().input.references[v.substr(0, eq)] = info;
    } else if (a == "--local") local = true;
    else if (!a.empty() && a[0] != '-' && name.empty()) name = a;
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
  if (cmd == "module" && !mod_name.empty() && !out.empty() && !objects.empty()) {
    ModuleRequest req;
    req.module_name = mod_name;
    req.objects = objects;
    req.kernel = k;
    req.output = out;
    req.workdir = workdir.empty() ? out + ".work" : workdir;
    if (use_kbuild) req.link = ModuleRequest::Link::kbuild;
    if (sign_key.empty() != sign_cert.empty()) return usage();
    if (!sign_key.empty()) req.signing = SigningKey{sign_key, sign_cert, "sha256"};
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
  return usage();
}
