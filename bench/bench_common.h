/* Shared helpers for the allocator benchmarks: a fixed-seed PRNG and a monotonic clock. */
#ifndef HV_BENCH_COMMON_H
#define HV_BENCH_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: tiny, fast, deterministic */
typedef struct {
  uint64_t s;
} bench_rng;

static inline uint64_t bench_next(bench_rng* r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545f4914f6cdd1dull;
}

static inline uint32_t bench_below(bench_rng* r, uint32_t n) {
  return (uint32_t)(((bench_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline long bench_arg(int argc, char** argv, int i, long dflt) {
  if (argc > i) {
    char* end;
    long v = strtol(argv[i], &end, 0);
    if (*end == 0 && v > 0) return v;
    fprintf(stderr, "bad argument: %s\n", argv[i]);
    exit(2);
  }
  return dflt;
}

/* One machine-readable result line; bench/run_alloc_bench.sh and the ctest parse it. */
static inline void bench_report(const char* name, uint64_t checksum, uint64_t ops, uint64_t ns) {
  printf("%s checksum=%016llx ops=%llu elapsed_ns=%llu\n", name, (unsigned long long)checksum,
         (unsigned long long)ops, (unsigned long long)ns);
}
#endif
