/* shapes_prog.c - many call paths of the same depth through look-alike functions, for the
 * stack check (allocator/src/stack_capture.cpp): f0, f1 and f2 have frames of one size, so a
 * malloc from f0 reached through f1 and through f2 comes with the same return address and stack
 * pointer, and only words further out tell the two stacks apart. Each path is a sequence of 1 to
 * 4 of them (120 paths); the leaf allocates 16 + the path's number bytes (calloc, realloc of
 * NULL or malloc, by the number) and frees the block the path made before, so a site's size
 * names its path (stacks_test.py checks each site's frames against it). Paths are taken in a random order
 * (fixed seed), 200000 calls in all. Built -O2 without frame pointers and -O0 (rbp-based frames: the check's
 * other way). */
#include <stdint.h>
#include <stdlib.h>

#define NPATHS 120
static void* slot[NPATHS];
static volatile int sink_v;

typedef void (*fn)(const uint8_t*, int, int, int);
static fn fns[3];

__attribute__((noinline)) static void leaf(int id) {
  size_t n = 16 + (size_t)id;
  void* m = id % 3 == 0 ? calloc(1, n) : id % 3 == 1 ? realloc(NULL, n) : malloc(n);
  if (slot[id]) free(slot[id]);
  slot[id] = m;
}

/* One step of a path: the next function, or the leaf. Distinct constants keep the three apart
 * (no identical-code folding); the work after the call keeps it from being a tail call. */
#define STEP(N)                                                                                              \
  __attribute__((noinline)) static void f##N(const uint8_t* path, int k, int len, int id) {                  \
    if (k + 1 == len)                                                                                        \
      leaf(id);                                                                                              \
    else                                                                                                     \
      fns[path[k + 1]](path, k + 1, len, id);                                                                \
    sink_v = N;                                                                                              \
  }
STEP(0)
STEP(1)
STEP(2)

int main(void) {
  fns[0] = f0;
  fns[1] = f1;
  fns[2] = f2;
  uint8_t paths[NPATHS][4];
  int lens[NPATHS];
  int id = 0;
  for (int len = 1; len <= 4; ++len) {
    int count = 1;
    for (int i = 0; i < len; ++i)
      count *= 3;
    for (int v = 0; v < count; ++v, ++id) {
      int x = v;
      for (int i = 0; i < len; ++i, x /= 3)
        paths[id][i] = (uint8_t)(x % 3);
      lens[id] = len;
    }
  }
  uint64_t r = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 200000; ++i) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    int p = (int)(r % NPATHS);
    fns[paths[p][0]](paths[p], 0, lens[p], p);
  }
  return 0; /* the last block of every path stays: one live block per site */
}
