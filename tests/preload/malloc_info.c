/* malloc_info.c - prints malloc_info(0, stdout) after a fixed allocation pattern in the main
 * thread and two more threads, for malloc_info_test.sh to compare the system glibc's XML with
 * libhvalloc.so's (LD_PRELOAD): both lay out the heap the same way, so every number must match.
 *
 * usage: hv_malloc_info [einval]
 * The threads run one after the other (each waits for the previous to finish its allocations)
 * and stay alive while the XML is written, so each has its own arena and nothing depends on
 * the schedule. With `einval`, prints what malloc_info(1, stdout) returns and errno. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t g_done_allocating, g_printed;

/* A mix that fills every kind of bin: tcache (not in the XML), fastbins past the tcache's 7,
 * small and large chunks sorted out of the unsorted bin, chunks left in the unsorted bin, and an
 * mmapped chunk. `keep` chunks separate the freed ones so they do not merge. */
static void pattern(int salt, void** keep, int nkeep) {
  void* fast[40];
  for (int i = 0; i < 40; ++i)
    fast[i] = malloc(16 + (i % 4) * 16 + salt);
  void* mid[24];
  for (int i = 0; i < 24; ++i) {
    mid[i] = malloc(200 + i * 150 + salt * 8);
    keep[i % nkeep] = malloc(24);
  }
  void* big = malloc(300000 + salt * 4096); /* mmapped */
  for (int i = 0; i < 24; i += 2)
    free(mid[i]);
  void* sorter = malloc(5000); /* sorts the unsorted chunks into small and large bins */
  for (int i = 1; i < 24; i += 4)
    free(mid[i]); /* these stay in the unsorted bin */
  for (int i = 0; i < 40; ++i)
    free(fast[i]); /* 7 of each size to the tcache, the other 3 to a fastbin */
  (void)sorter;
  (void)big;
}

static void* thread_main(void* arg) {
  void* keep[8];
  pattern((int)(long)arg, keep, 8);
  pthread_barrier_wait(&g_done_allocating);
  pthread_barrier_wait(&g_printed);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "einval") == 0) {
    errno = 0;
    int r = malloc_info(1, stdout);
    printf("malloc_info(1) = %d, errno = %d\n", r, errno);
    return 0;
  }
  printf("<!-- hv_malloc_info -->\n"); /* stdout's buffer exists before the pattern */
  fflush(stdout);
  void* keep[8];
  pattern(0, keep, 8);
  pthread_t t[2];
  for (long i = 0; i < 2; ++i) {
    pthread_barrier_init(&g_done_allocating, NULL, 2);
    if (i == 0) pthread_barrier_init(&g_printed, NULL, 3);
    if (pthread_create(&t[i], NULL, thread_main, (void*)(i + 1)) != 0) return 2;
    pthread_barrier_wait(&g_done_allocating);
    pthread_barrier_destroy(&g_done_allocating);
  }
  if (malloc_info(0, stdout) != 0) return 1;
  fflush(stdout);
  pthread_barrier_wait(&g_printed);
  for (int i = 0; i < 2; ++i)
    pthread_join(t[i], NULL);
  return 0;
}
