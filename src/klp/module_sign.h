// Optional module signing (PKCS#7), for hosts that enforce module signatures (Secure Boot).
//
// The kernel checks an appended signature: the module bytes, then a PKCS#7 (CMS) signature,
// a struct module_signature and the magic "~Module signature appended~\n". The headers
// package ships the kernel's own tool for exactly this format (scripts/sign-file, built for
// this kernel's kbuild), so we call it rather than re-implementing the layout: it signs the
// finished .ko (after the .klp sections are in, since the signature covers every byte).
// Output goes to a temporary file renamed over the module, so a failure leaves the unsigned
// module intact. The key is a PEM private key (or a PKCS#11 URI), the certificate PEM or DER;
// the host must trust that certificate (a key in the kernel's keyring, e.g. via MOK).
#pragma once

#include <string>

#include "core/result.h"
#include "klp/symbol_cache.h"

namespace noreboot::klp {

struct SigningKey {
  std::string key;          // private key: PEM file (or pkcs11: URI)
  std::string certificate;  // X.509 certificate, PEM or DER
  std::string hash = "sha256";
};

Status sign_module(const std::string& ko, const SigningKey& key, const KernelFiles& k);

}  // namespace noreboot::klp
