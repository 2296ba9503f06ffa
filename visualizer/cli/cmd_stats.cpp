// cmd_stats.cpp - `heapviz stats` (being written).
#include "commands.h"

#include <cstdio>

namespace hv::cli {
int cmd_stats(int, char**) {
  fprintf(stderr, "heapviz stats: not implemented yet\n");
  return 2;
}
}  // namespace hv::cli
