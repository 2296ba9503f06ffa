// cmd_dump.cpp - `heapviz dump` (being written).
#include "commands.h"

#include <cstdio>

namespace hv::cli {
int cmd_dump(int, char**) {
  fprintf(stderr, "heapviz dump: not implemented yet\n");
  return 2;
}
}  // namespace hv::cli
