/* trace_failure_prog.c - a program to record while its trace fails (trace_failure_test.sh).
 *
 * usage: hv_trace_failure_prog THREADS OPS
 * Each of THREADS threads runs OPS malloc/free calls over 512 live slots (sizes 1 B - 2 KiB, one
 * in 128 of 20 - 200 KiB) with errno set to 77 and checks after every call that the allocator
 * left it alone, as glibc does on success. Prints one line whose numbers depend only on the
 * arguments, never on the allocator or the schedule, and exits with status 3, so a test can
 * tell that the program's output and exit status are its own. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long g_ops;
static int g_errno_changed;

static uint64_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void* churn(void* arg) {
  uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)(uintptr_t)arg, sum = 0;
  enum { kSlots = 512 };
  unsigned char* slot[kSlots] = {0};
  errno = 77;
  for (long i = 0; i < g_ops; ++i) {
    size_t k = rnd(&seed) % kSlots;
    if (slot[k]) {
      sum += slot[k][0];
      free(slot[k]);
      slot[k] = NULL;
    } else {
      size_t n = rnd(&seed) % 128 == 0 ? 20000 + rnd(&seed) % 180000 : 1 + rnd(&seed) % 2048;
      slot[k] = malloc(n);
      if (!slot[k]) abort();
      slot[k][0] = (unsigned char)n;
    }
    if (errno != 77) {
      __atomic_store_n(&g_errno_changed, 1, __ATOMIC_RELAXED);
      errno = 77;
    }
  }
  for (size_t k = 0; k < kSlots; ++k)
    free(slot[k]);
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: hv_trace_failure_prog THREADS OPS\n");
    return 2;
  }
  int threads = atoi(argv[1]);
  g_ops = atol(argv[2]);
  if (threads < 1 || threads > 64 || g_ops < 1) return 2;
  pthread_t t[64];
  for (int i = 1; i < threads; ++i)
    if (pthread_create(&t[i], NULL, churn, (void*)(uintptr_t)i) != 0) return 2;
  uint64_t sum = (uint64_t)(uintptr_t)churn((void*)0);
  for (int i = 1; i < threads; ++i) {
    void* r;
    pthread_join(t[i], &r);
    sum += (uint64_t)(uintptr_t)r;
  }
  printf("threads=%d ops=%ld checksum=%llu errno=%s\n", threads, g_ops, (unsigned long long)sum,
         g_errno_changed ? "CHANGED" : "kept");
  return 3;
}
