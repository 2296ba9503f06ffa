/* frag_prog.c [N] - fragmentation and diffs with known culprits: quiet() keeps 50 blocks that
 * sit side by side (they keep nothing apart); pin() keeps 100 small blocks, each between two
 * large blocks of bulk() that are then freed (pin's blocks keep the free memory apart, and the
 * last of them keeps the top from shrinking); grow() keeps N blocks of 64 bytes (default 10),
 * the site that differs between `frag_prog 10` and `frag_prog 50`. */
#include <stdlib.h>

__attribute__((noinline)) void* keep(void* p) {
  __asm__ volatile("" ::"r"(p) : "memory");
  return p;
}
__attribute__((noinline)) void* quiet(size_t n) {
  return keep(malloc(n)); /* SITE_QUIET */
}
__attribute__((noinline)) void* bulk(size_t n) {
  return keep(malloc(n)); /* SITE_BULK */
}
__attribute__((noinline)) void* pin(size_t n) {
  return keep(malloc(n)); /* SITE_PIN */
}
__attribute__((noinline)) void* grow(size_t n) {
  return keep(malloc(n)); /* SITE_GROW */
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  static void* b[100];
  for (int i = 0; i < 50; ++i)
    quiet(100);
  for (int i = 0; i < 100; ++i) {
    b[i] = bulk(4000);
    pin(40);
  }
  for (int i = 0; i < 100; ++i)
    free(b[i]);
  for (int i = 0; i < n; ++i)
    grow(64);
  return 0;
}
