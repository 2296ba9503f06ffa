/* hvalloc.h - the public extras of libhvalloc.so, for programs that want to talk to it.
 *
 * Both functions are declared weak: a program built with this header runs unchanged without the
 * allocator preloaded (the HV_MARK macro then does nothing). */
#ifndef HEAPVIZ_HVALLOC_H
#define HEAPVIZ_HVALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Puts a labelled mark on the recording's timeline (at most 255 bytes of label). */
void hv_mark(const char* label) __attribute__((weak));

/* Walks every arena and checks every heap invariant (allocator/src/chunk.h, I1..I11).
 * Returns 0 when all hold; otherwise the number of the first violated invariant, with a
 * description in msg. Other threads must not allocate while it runs. */
int hvalloc_check(char* msg, size_t msg_len) __attribute__((weak));

#ifdef __cplusplus
}
#endif

/* HV_MARK("label"): a mark when recording under libhvalloc.so, nothing otherwise. */
#define HV_MARK(label)                                                                                       \
  do {                                                                                                       \
    if (hv_mark) hv_mark(label);                                                                             \
  } while (0)

#endif
