/* hvalloc.h - the public extras of libhvalloc.so, for programs that want to talk to it.
 *
 * Look the functions up with dlsym(RTLD_DEFAULT, ...) so a program still runs without the
 * allocator preloaded. */
#ifndef HEAPVIZ_HVALLOC_H
#define HEAPVIZ_HVALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Walks every arena and checks every heap invariant (allocator/src/chunk.h, I1..I11).
 * Returns 0 when all hold; otherwise the number of the first violated invariant, with a
 * description in msg. Other threads must not allocate while it runs. */
int hvalloc_check(char* msg, size_t msg_len);

#ifdef __cplusplus
}
#endif

#endif
