/* plugin.c - a library that sites_prog dlopens: its allocation site lies in a module loaded after
 * the recording began. */
#include <stdlib.h>

__attribute__((noinline)) void* plugin_alloc(size_t n) {
  void* p = malloc(n); /* SITE_P */
  __asm__ volatile("" ::"r"(p) : "memory");
  return p;
}
