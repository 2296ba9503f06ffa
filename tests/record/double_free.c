/* double_free.c - allocates, marks, then frees a block twice: the recording must end with the
 * error event and the process must abort as under glibc. */
#include <stdio.h>
#include <stdlib.h>

#include "heapviz/hvalloc.h"

int main(void) {
  void* keep[100];
  for (int i = 0; i < 100; ++i)
    keep[i] = malloc((size_t)(i * 24 + 8));
  HV_MARK("before the bug");
  void* p = malloc(40);
  free(p);
  printf("about to free twice\n");
  fflush(stdout);
  free(p);
  for (int i = 0; i < 100; ++i)
    free(keep[i]);
  return 0;
}
