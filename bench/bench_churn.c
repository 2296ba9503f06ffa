/* bench_churn: malloc/free churn over a live set of 4096 slots.
 *   bench_churn [OPS] [SEED]      default OPS = 20000000 (malloc + free calls)
 * Sizes: 8 B - 1 KiB, and 1 in 64 requests 4 - 68 KiB. Each block gets its first and last bytes
 * written and checked on free, so the checksum only depends on the seed. */
#include <string.h>

#include "bench_common.h"

#define SLOTS 4096

int main(int argc, char** argv) {
  long ops = bench_arg(argc, argv, 1, 20000000);
  bench_rng r = {(uint64_t)bench_arg(argc, argv, 2, 0x5eed) * 0x9e3779b97f4a7c15ull | 1};
  static unsigned char* slot[SLOTS];
  static uint32_t slot_size[SLOTS];
  uint64_t sum = 0, done = 0;
  uint64_t t0 = bench_now_ns();
  while (done < (uint64_t)ops) {
    uint32_t i = bench_below(&r, SLOTS);
    if (slot[i]) {
      unsigned char* p = slot[i];
      uint32_t n = slot_size[i];
      sum = sum * 31 + p[0] + ((uint64_t)p[n - 1] << 8) + n;
      free(p);
      slot[i] = NULL;
      done++;
      if (bench_below(&r, 4) == 0) continue; /* let the live set breathe */
    }
    uint32_t n = (bench_below(&r, 64) == 0) ? 4096 + bench_below(&r, 64 * 1024 + 1)
                                            : 8 + bench_below(&r, 1024 - 8 + 1);
    unsigned char* p = malloc(n);
    if (!p) {
      fprintf(stderr, "bench_churn: malloc(%u) failed\n", n);
      return 1;
    }
    p[0] = (unsigned char)(done * 7 + n);
    p[n - 1] = (unsigned char)(i ^ n);
    if (n >= 4096) memset(p + 1, 0x5a, 64);
    slot[i] = p;
    slot_size[i] = n;
    done++;
  }
  for (int i = 0; i < SLOTS; i++) {
    if (slot[i]) {
      sum = sum * 31 + slot[i][0] + ((uint64_t)slot[i][slot_size[i] - 1] << 8) + slot_size[i];
      free(slot[i]);
    }
  }
  uint64_t t1 = bench_now_ns();
  bench_report("bench_churn", sum, done, t1 - t0);
  return 0;
}
