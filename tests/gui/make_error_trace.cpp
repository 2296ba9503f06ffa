// make_error_trace.cpp - writes tests/views/error_trace.h's trace (heap errors with the bytes that
// differ) to a file: for the Errors pixel test and the README's screenshot (scripts/screenshots).
// Must not: be installed or linked into heapviz.
#include "../views/error_trace.h"

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hv_make_error_trace OUT.hvt\n");
    return 2;
  }
  hv::test::ErrorTrace t;
  FILE* f = fopen(argv[1], "wb");
  if (!f || fwrite(t.bytes.data(), 1, t.bytes.size(), f) != t.bytes.size() || fclose(f) != 0) {
    perror(argv[1]);
    return 1;
  }
  printf("%s: %llu events, overflow chunk 0x%llx, write-after-free chunk 0x%llx\n", argv[1],
         (unsigned long long)t.events, (unsigned long long)t.overflow_chunk, (unsigned long long)t.waf_chunk);
  return 0;
}
