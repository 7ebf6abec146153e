// noreboot-build: a kernel source fix in, a signed livepatch bundle out. See build/build.h.
#include <iostream>

#include "builder/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto r = noreboot::builder::run_cli(args);
  int code = noreboot::builder::exit_code_for(r);
  if (!r.ok()) {
    std::cerr << "noreboot-build: " << r.error().message() << "\n";
    if (code == 2) std::cerr << noreboot::builder::kUsage;
  }
  return code;
}
