/* signal_malloc.c: a program whose SIGPROF handler mallocs, callocs, reallocs and frees while the
 * main thread churns through malloc and free, so that the handler often runs inside one of them
 * (undefined behaviour in C, and glibc's malloc often survives it). Sizes stay far below the mmap
 * threshold: every mmapped chunk in its trace is a handler's call served outside the heap.
 *   hv_record_signal_malloc [OPS]   default 3000000; prints hits=N (signals handled) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t hits;
static void* volatile kept[8];

static void on_prof(int sig) {
  (void)sig;
  unsigned h = (unsigned)hits;
  void* p;
  if (h % 3 == 0)
    p = calloc(3, 8 + h % 5 * 8);
  else if (h % 3 == 1)
    p = realloc(kept[(h + 1) % 8], 24 + h % 7 * 40);
  else
    p = malloc(24 + h % 5 * 40);
  if (h % 3 == 1) kept[(h + 1) % 8] = NULL; /* realloc took it */
  if (p) memset(p, 1, 24);
  free(kept[h % 8]);
  kept[h % 8] = p;
  hits = h + 1;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 3000000;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prof;
  sigaction(SIGPROF, &sa, NULL);
  struct itimerval every = {{0, 200}, {0, 200}}; /* 200 us of CPU time */
  setitimer(ITIMER_PROF, &every, NULL);
  static void* slot[1024];
  unsigned long long r = 88172645463325252ull;
  for (long i = 0; i < n; i++) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    unsigned k = (unsigned)(r % 1024);
    if (slot[k]) {
      free(slot[k]);
      slot[k] = NULL;
    } else {
      slot[k] = malloc(16 + (r >> 20) % 600);
    }
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  for (int k = 0; k < 1024; k++)
    free(slot[k]);
  for (int k = 0; k < 8; k++)
    free(kept[k]);
  printf("hits=%d\n", (int)hits);
  return 0;
}
