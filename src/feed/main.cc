// noreboot-feed: follows Debian's kernel security updates (docs/feed.md). A thin main.
#include <iostream>

#include "feed/cli.h"

int main(int argc, char** argv) {
  // A run takes minutes (builds, QEMU tests): every progress line goes out when it is written,
  // not when a block buffer fills, so the journal (stdout is a pipe under a timer) and a
  // watching operator see each step as it happens, with its real time.
  std::cout << std::unitbuf;
  std::vector<std::string> args(argv + 1, argv + argc);
  return noreboot::feed::feed_main(args, std::cout, std::cerr);
}
