// Running the kernel's tools (dpkg-deb, tar, make, ld) from the klp library.
//
// Commands run through /bin/sh -c with every variable part quoted by shell_quote(), so paths
// with spaces or quotes cannot change the command. Output (stdout and stderr) is captured; a
// non-zero exit becomes an Error carrying the command's last lines of output.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace noreboot::klp {

std::string shell_quote(std::string_view s);
// Runs `command` with /bin/sh; returns its combined output.
Result<std::string> run_shell(const std::string& command, std::string_view what);

}  // namespace noreboot::klp
