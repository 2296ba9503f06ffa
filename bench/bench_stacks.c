/* bench_stacks: many distinct call stacks, for symbolization and interning benchmarks.
 *   bench_stacks [BITS]     default 14: 2^BITS distinct stacks, BITS + 4 frames deep
 * A path of BITS calls through 16 functions (f0..f15, each with two call sites) ends in malloc;
 * every path is a distinct stack. Each block is freed at once but every 16th, kept (leaked). */
#include <stdint.h>
#include <stdlib.h>

#include "bench_common.h"

typedef void* (*step_fn)(int, uint32_t);
static step_fn steps[16];

__attribute__((noinline)) static void* keep(void* p) {
  __asm__ volatile("" ::"r"(p) : "memory");
  return p;
}

#define STEP(n)                                                                                              \
  __attribute__((noinline)) static void* f##n(int d, uint32_t bits) {                                        \
    if (d == 0) return keep(malloc(16 + n));                                                                 \
    void* r = (bits & 1) ? steps[(n + 1) % 16](d - 1, bits >> 1) : steps[(n + 7) % 16](d - 1, bits >> 1);    \
    return keep(r);                                                                                          \
  }
// clang-format off (a list of macro expansions, one per line)
STEP(0)
STEP(1)
STEP(2)
STEP(3)
STEP(4)
STEP(5)
STEP(6)
STEP(7)
STEP(8)
STEP(9)
STEP(10)
STEP(11)
STEP(12)
STEP(13)
STEP(14)
STEP(15)
// clang-format on

int main(int argc, char** argv) {
  int bits = (int)bench_arg(argc, argv, 1, 14);
  step_fn s[16] = {f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15};
  for (int i = 0; i < 16; ++i)
    steps[i] = s[i];
  for (uint32_t p = 0; p < (1u << bits); ++p) {
    void* b = f0(bits, p);
    if (p % 16) free(b);
  }
  return 0;
}
