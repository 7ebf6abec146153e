// See module_sign.h.
#include "klp/module_sign.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/process.h"

namespace noreboot::klp {
namespace fs = std::filesystem;

Status sign_module(const std::string& ko, const SigningKey& key, const KernelFiles& k) {
  std::string tool = k.headers + "/scripts/sign-file";
  if (!fs::exists(tool))
    return Error(Errc::not_found, tool + " is missing: the headers package of " + k.abi + " is not unpacked");
  for (const auto& [what, path] : {std::pair{"signing key", key.key}, std::pair{"certificate", key.certificate}})
    if (path.rfind("pkcs11:", 0) != 0 && !fs::exists(path))
      return Error(Errc::not_found, std::string(what) + " " + path + " does not exist");
  for (char c : key.hash)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return Error(Errc::invalid_argument, "hash algorithm '" + key.hash + "' is not a name like sha256");
  std::string tmp = ko + ".signing";
  auto r = run_shell(shell_quote(tool) + " " + key.hash + " " + shell_quote(key.key) + " " +
                         shell_quote(key.certificate) + " " + shell_quote(ko) + " " + shell_quote(tmp),
                     "sign-file " + ko);
  if (!r) {
    std::remove(tmp.c_str());
    return std::move(r).error();
  }
  std::error_code ec;
  fs::rename(tmp, ko, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error(Errc::io, ko + ": cannot replace with the signed module");
  }
  return ok_status();
}

}  // namespace noreboot::klp
