// cmd_record.cpp - `heapviz record` (being written).
#include "commands.h"

#include <cstdio>

namespace hv::cli {
int cmd_record(int, char**) {
  fprintf(stderr, "heapviz record: not implemented yet\n");
  return 2;
}
}  // namespace hv::cli
