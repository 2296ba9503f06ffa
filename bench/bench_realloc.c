/* bench_realloc: realloc growth. 256 buffers grown by small steps (1-64 bytes) and by doubling,
 * reset when they pass 128 KiB, interleaved with unrelated malloc/free traffic in 1024 side slots.
 *   bench_realloc [STEPS] [SEED]     default STEPS = 6000000
 * Every growth writes the new tail and checks that the old contents survived. */
#include <string.h>

#include "bench_common.h"

#define BUFS 256
#define SIDE 1024
#define LIMIT (128u << 10)

int main(int argc, char** argv) {
  long steps = bench_arg(argc, argv, 1, 6000000);
  bench_rng r = {(uint64_t)bench_arg(argc, argv, 2, 0x5eed) * 0x9e3779b97f4a7c15ull | 1};
  static unsigned char* buf[BUFS];
  static uint32_t len[BUFS];
  static void* side[SIDE];
  uint64_t sum = 0, ops = 0;
  uint64_t t0 = bench_now_ns();
  for (long s = 0; s < steps; s++) {
    uint32_t k = bench_below(&r, 8);
    if (k < 5) {
      uint32_t b = bench_below(&r, BUFS);
      uint32_t old = len[b];
      uint32_t nlen;
      if (old == 0)
        nlen = 16;
      else if (old > LIMIT)
        nlen = 0;
      else if (bench_below(&r, 10) == 0)
        nlen = old * 2;
      else
        nlen = old + 1 + bench_below(&r, 64);
      if (nlen == 0) {
        sum += buf[b][old - 1] + buf[b][0];
        free(buf[b]);
        buf[b] = NULL;
        len[b] = 0;
        ops++;
        continue;
      }
      unsigned char* p = realloc(buf[b], nlen);
      if (!p) {
        fprintf(stderr, "bench_realloc: realloc(%u) failed\n", nlen);
        return 1;
      }
      ops++;
      if (old) {
        if (p[0] != (unsigned char)b || p[old - 1] != (unsigned char)(old * 13)) {
          fprintf(stderr, "bench_realloc: contents lost at step %ld\n", s);
          return 1;
        }
      }
      p[0] = (unsigned char)b;
      memset(p + (old ? old : 1), (int)(nlen & 0xff),
             nlen - (old ? old : 1) > 256 ? 256 : nlen - (old ? old : 1));
      p[nlen - 1] = (unsigned char)(nlen * 13);
      sum = sum * 131 + nlen;
      buf[b] = p;
      len[b] = nlen;
    } else {
      uint32_t i = bench_below(&r, SIDE);
      if (side[i]) {
        sum += *(unsigned char*)side[i];
        free(side[i]);
        side[i] = NULL;
      } else {
        uint32_t n = 16 + bench_below(&r, 600);
        side[i] = malloc(n);
        if (!side[i]) return 1;
        *(unsigned char*)side[i] = (unsigned char)n;
      }
      ops++;
    }
  }
  for (int b = 0; b < BUFS; b++)
    free(buf[b]);
  for (int i = 0; i < SIDE; i++)
    free(side[i]);
  uint64_t t1 = bench_now_ns();
  bench_report("bench_realloc", sum, ops, t1 - t0);
  return 0;
}
