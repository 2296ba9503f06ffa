// cmd_check.cpp - `heapviz check` (being written).
#include "commands.h"

#include <cstdio>

namespace hv::cli {
int cmd_check(int, char**) {
  fprintf(stderr, "heapviz check: not implemented yet\n");
  return 2;
}
}  // namespace hv::cli
