// churn_big.c N: N malloc/free pairs of pseudo-random sizes (16-1040 bytes) over 256 slots: a
// long trace with a small heap, for the readers' bounded-memory test (reader_memory_test.sh).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
  void* slot[256] = {0};
  unsigned x = 12345;
  for (unsigned long i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    unsigned k = (x >> 8) & 255;
    free(slot[k]);
    slot[k] = malloc(16 + ((x >> 16) & 1023));
  }
  for (int k = 0; k < 256; ++k)
    free(slot[k]);
  return 0;
}
