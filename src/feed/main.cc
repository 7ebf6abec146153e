// noreboot-feed: follows Debian's kernel security updates (docs/feed.md). A thin main.
#include <iostream>

#include "feed/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return noreboot::feed::feed_main(args, std::cout, std::cerr);
}
