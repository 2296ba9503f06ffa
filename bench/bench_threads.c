/* bench_threads: bench_churn's malloc/free churn on N threads at once, each over its own 4096
 * slots with its own seed, to see how an allocator (or a recording) scales with threads.
 *   bench_threads THREADS [OPS_PER_THREAD] [SEED]     default OPS_PER_THREAD = 2000000
 * The workers are always created with pthread_create (even for one), so the process is always
 * multi-threaded. They wait on a barrier with the main thread, which times from that barrier to
 * the last join and prints `bench_threads threads=N checksum=... ops=... ns=... cpu_ns=...` (cpu_ns:
 * the process's CPU time over the same span, so cpu_ns / ns tells how many threads really ran at
 * once); the checksum combines the threads' sums in thread order, so it depends only on THREADS,
 * OPS and SEED. */
#include <pthread.h>
#include <string.h>

#include "bench_common.h"

#define SLOTS 4096
#define MAX_THREADS 1024

typedef struct {
  long ops;
  uint64_t seed;
  uint64_t sum, done;
  int failed;
  unsigned char* slot[SLOTS];
  uint32_t slot_size[SLOTS];
} worker;

static pthread_barrier_t start;

static uint64_t cpu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void* churn(void* arg) {
  worker* w = arg;
  bench_rng r = {w->seed * 0x9e3779b97f4a7c15ull | 1};
  uint64_t sum = 0, done = 0;
  pthread_barrier_wait(&start);
  while (done < (uint64_t)w->ops) {
    uint32_t i = bench_below(&r, SLOTS);
    if (w->slot[i]) {
      unsigned char* p = w->slot[i];
      uint32_t n = w->slot_size[i];
      sum = sum * 31 + p[0] + ((uint64_t)p[n - 1] << 8) + n;
      free(p);
      w->slot[i] = NULL;
      done++;
      if (bench_below(&r, 4) == 0) continue; /* let the live set breathe */
    }
    uint32_t n = (bench_below(&r, 64) == 0) ? 4096 + bench_below(&r, 64 * 1024 + 1)
                                            : 8 + bench_below(&r, 1024 - 8 + 1);
    unsigned char* p = malloc(n);
    if (!p) {
      fprintf(stderr, "bench_threads: malloc(%u) failed\n", n);
      w->failed = 1;
      break;
    }
    p[0] = (unsigned char)(done * 7 + n);
    p[n - 1] = (unsigned char)(i ^ n);
    if (n >= 4096) memset(p + 1, 0x5a, 64);
    w->slot[i] = p;
    w->slot_size[i] = n;
    done++;
  }
  for (int i = 0; i < SLOTS; i++) {
    if (w->slot[i]) {
      sum = sum * 31 + w->slot[i][0] + ((uint64_t)w->slot[i][w->slot_size[i] - 1] << 8) + w->slot_size[i];
      free(w->slot[i]);
      w->slot[i] = NULL;
    }
  }
  w->sum = sum;
  w->done = done;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_threads THREADS [OPS_PER_THREAD] [SEED]\n");
    return 2;
  }
  long threads = bench_arg(argc, argv, 1, 1);
  long ops = bench_arg(argc, argv, 2, 2000000);
  long seed = bench_arg(argc, argv, 3, 0x5eed);
  if (threads > MAX_THREADS) {
    fprintf(stderr, "bench_threads: at most %d threads\n", MAX_THREADS);
    return 2;
  }
  worker* w = calloc((size_t)threads, sizeof *w);
  pthread_t* tid = calloc((size_t)threads, sizeof *tid);
  if (!w || !tid || pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0) {
    fprintf(stderr, "bench_threads: setup failed\n");
    return 1;
  }
  for (long t = 0; t < threads; t++) {
    w[t].ops = ops;
    w[t].seed = (uint64_t)seed + (uint64_t)t; /* thread 0 churns as bench_churn does */
    if (pthread_create(&tid[t], NULL, churn, &w[t]) != 0) {
      fprintf(stderr, "bench_threads: pthread_create failed\n");
      return 1;
    }
  }
  pthread_barrier_wait(&start);
  uint64_t t0 = bench_now_ns(), c0 = cpu_now_ns();
  for (long t = 0; t < threads; t++)
    pthread_join(tid[t], NULL);
  uint64_t t1 = bench_now_ns(), c1 = cpu_now_ns();
  uint64_t sum = 0, done = 0;
  int failed = 0;
  for (long t = 0; t < threads; t++) {
    sum = sum * 0x100000001b3ull + w[t].sum;
    done += w[t].done;
    failed |= w[t].failed;
  }
  printf("bench_threads threads=%ld checksum=%016llx ops=%llu ns=%llu cpu_ns=%llu\n", threads,
         (unsigned long long)sum, (unsigned long long)done, (unsigned long long)(t1 - t0),
         (unsigned long long)(c1 - c0));
  pthread_barrier_destroy(&start);
  free(tid);
  free(w);
  return failed;
}
