// See process.h.
#include "klp/process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace noreboot::klp {

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

Result<std::string> run_shell(const std::string& command, std::string_view what) {
  std::string full = "( " + command + " ) 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return Error(Errc::io, std::string(what) + ": cannot start: " + std::strerror(errno));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (status != 0) {
    std::string tail = out.size() > 3000 ? "..." + out.substr(out.size() - 3000) : out;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return Error(Errc::io, std::string(what) + " failed (exit " + std::to_string(code) + "): " + tail);
  }
  return out;
}

}  // namespace noreboot::klp
