/* fastbin_trim.c: 30000 small blocks (chunks of 48, 64 and 80 bytes: fastbin sizes), every 500th
 * kept, the others freed: past the tcache's 7 per size they wait in fastbins, unmerged. Then
 * malloc_trim(0) between the marks "before-trim" and "after-trim": glibc's mtrim consolidates the
 * fastbins first (runs of ~32 KiB between the kept blocks, the last one into the top), then hands
 * back the whole pages inside every free chunk and the main top's tail.
 * For Frag.TrimEstimateMatchesWhatMallocTrimGaveBack: `heapviz frag --at mark:before-trim` says
 * what malloc_trim(0) would hand back; the trace's release and sbrk events after it say what it
 * did. (The estimate counted no fastbin chunk: 0 pages of these runs.) */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "heapviz/hvalloc.h"

#define N 30000
static void* p[N];

int main(void) {
  for (int i = 0; i < N; i++)
    p[i] = malloc(40 + (size_t)(i % 3) * 16);
  for (int i = 0; i < N; i++)
    if (i % 500 != 0) {
      free(p[i]);
      p[i] = NULL;
    }
  HV_MARK("before-trim");
  int r = malloc_trim(0);
  HV_MARK("after-trim");
  size_t kept = 0;
  for (int i = 0; i < N; i++)
    kept += p[i] != NULL;
  printf("fastbin_trim: kept %zu, malloc_trim %d\n", kept, r);
  return 0;
}
