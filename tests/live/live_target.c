// live_target.c - a program to attach to (tests/live/live_test.sh, bench/run_live_bench.sh).
// Usage: live_target THREADS ROUNDS SLEEP_US [OPS]
// Each thread churns malloc/free/realloc/calloc of mixed sizes (tcache, fastbins, small and
// large bins, an mmapped chunk now and then) for ROUNDS rounds of OPS operations, sleeping
// SLEEP_US between rounds, and the program prints a checksum of what it wrote and read: the
// same with or without a viewer attached.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_rounds, g_sleep_us, g_ops = 2000;

static uint64_t rng(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void* worker(void* arg) {
  uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1, sum = 0;
  enum { kSlots = 512 };
  unsigned char* slot[kSlots] = {0};
  size_t len[kSlots] = {0};
  for (int r = 0; r < g_rounds; ++r) {
    for (int op = 0; op < g_ops; ++op) {
      uint64_t x = rng(&seed);
      int i = (int)(x % kSlots);
      if (slot[i]) {
        for (size_t k = 0; k < len[i]; k += 61) sum += slot[i][k];
        if ((x >> 20) % 4 == 0) {
          size_t n = 1 + (x >> 24) % 3000;
          unsigned char* p = realloc(slot[i], n);
          if (!p) abort();
          if (n > len[i]) memset(p + len[i], (int)(n & 0xff), n - len[i]);
          slot[i] = p;
          len[i] = n;
        } else {
          free(slot[i]);
          slot[i] = 0;
        }
      } else {
        uint64_t kind = (x >> 16) % 100;
        size_t n = kind < 60 ? 1 + (x >> 24) % 120 : kind < 95 ? 128 + (x >> 24) % 2000 : kind < 99 ? 4000 + (x >> 24) % 60000 : 200000;
        unsigned char* p = (x >> 40) % 8 == 0 ? calloc(1, n) : malloc(n);
        if (!p) abort();
        memset(p, (int)(i & 0xff), n);
        slot[i] = p;
        len[i] = n;
      }
    }
    if (g_sleep_us) usleep((useconds_t)g_sleep_us);
  }
  for (int i = 0; i < kSlots; ++i) free(slot[i]);
  return (void*)(uintptr_t)sum;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: live_target THREADS ROUNDS SLEEP_US [OPS]\n");
    return 2;
  }
  int threads = atoi(argv[1]);
  g_rounds = atoi(argv[2]);
  g_sleep_us = atoi(argv[3]);
  if (argc > 4) g_ops = atoi(argv[4]);
  pthread_t t[64];
  if (threads < 1 || threads > 64) return 2;
  uint64_t total = 0;
  for (int i = 1; i < threads; ++i) pthread_create(&t[i], 0, worker, (void*)(uintptr_t)(i + 1));
  total += (uint64_t)(uintptr_t)worker((void*)(uintptr_t)1);
  for (int i = 1; i < threads; ++i) {
    void* r;
    pthread_join(t[i], &r);
    total += (uint64_t)(uintptr_t)r;
  }
  printf("live_target: %d threads x %d rounds x %d ops, checksum %llu\n", threads, g_rounds, g_ops,
         (unsigned long long)total);
  return 0;
}
