/* sites_prog.c - allocation sites the stacks test knows by line (the SITE_ and CALL_ markers):
 * 3 blocks of 100 bytes and one strdup("hello") leaked, 5 blocks freed at once (temporary);
 * with a plugin path as argument, the plugin's plugin_alloc(64) twice (leaked). Built -O2
 * without frame pointers and -O0 (tests/stacks/CMakeLists.txt). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void sink(void* p) {
  __asm__ volatile("" ::"r"(p) : "memory");
}

__attribute__((noinline)) void* keep_a(size_t n) {
  void* p = malloc(n); /* SITE_A */
  sink(p);
  return p;
}

__attribute__((noinline)) char* keep_b(const char* s) {
  char* r = strdup(s); /* SITE_B */
  sink(r);
  return r;
}

int main(int argc, char** argv) {
  for (int i = 0; i < 3; ++i)
    sink(keep_a(100)); /* CALL_A */
  for (int i = 0; i < 5; ++i)
    free(keep_a(7));     /* CALL_A2 */
  sink(keep_b("hello")); /* CALL_B */
  if (argc > 1) {
    void* h = dlopen(argv[1], RTLD_NOW);
    if (!h) return 2;
    void* (*fn)(size_t) = (void* (*)(size_t))dlsym(h, "plugin_alloc");
    if (!fn) return 3;
    sink(fn(64));
    sink(fn(64));
  }
  return 0;
}
