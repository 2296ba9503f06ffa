// live_target.c - a program to attach to (tests/live/live_test.sh, bench/run_live_bench.sh).
// Usage: live_target THREADS ROUNDS SLEEP_US [OPS]
// Each thread churns malloc/free/realloc/calloc of mixed sizes (tcache, fastbins, small and
// large bins, an mmapped chunk now and then) for ROUNDS rounds of OPS operations, sleeping
// SLEEP_US between rounds, and the program prints a checksum of what it wrote and read: the
// same with or without a viewer attached.
// Harder cases, from the environment (for the live tests):
//   LT_SLOTS=N    live blocks per thread (default 512; thousands make snapshots span blocks)
//   LT_SHORT=1    threads live one round each: created, joined, created again (thread exit)
//   LT_FORK=1     the main thread forks a child every round (the child exits at once)
//   LT_TRIM=1     thread 1 calls malloc_trim(0) and mallopt every round
//   LT_TIME=1     print elapsed_ns=N (the churn's own time) on stderr (bench/run_live_bench.sh)
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_rounds, g_sleep_us, g_ops = 2000, g_slots = 512, g_short, g_fork, g_trim;

static int env_int(const char* name, int def) {
  const char* v = getenv(name);
  return v && *v ? atoi(v) : def;
}

static uint64_t rng(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

struct state {
  uint64_t seed, sum;
  unsigned char** slot;
  size_t* len;
  int id;
};

static void round_of(struct state* st, int r) {
  for (int op = 0; op < g_ops; ++op) {
    uint64_t x = rng(&st->seed);
    int i = (int)(x % (uint64_t)g_slots);
    unsigned char** slot = st->slot;
    size_t* len = st->len;
    if (slot[i]) {
      for (size_t k = 0; k < len[i]; k += 61)
        st->sum += slot[i][k];
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
      size_t n = kind < 60   ? 1 + (x >> 24) % 120
                 : kind < 95 ? 128 + (x >> 24) % 2000
                 : kind < 99 ? 4000 + (x >> 24) % 60000
                             : 200000;
      unsigned char* p = (x >> 40) % 8 == 0 ? calloc(1, n) : malloc(n);
      if (!p) abort();
      memset(p, (int)(i & 0xff), n);
      slot[i] = p;
      len[i] = n;
    }
  }
  if (g_trim && st->id == 1) {
    malloc_trim(0);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 + (r % 2) * 4096);
  }
  if (g_fork && st->id == 0) {
    pid_t c = fork();
    if (c == 0) _exit(0);
    if (c > 0) waitpid(c, 0, 0);
  }
}

static void* run_rounds(void* arg) { /* ROUNDS rounds (or one, with LT_SHORT) */
  struct state* st = arg;
  int rounds = g_short ? 1 : g_rounds;
  for (int r = 0; r < rounds; ++r) {
    round_of(st, r);
    if (g_sleep_us) usleep((useconds_t)g_sleep_us);
  }
  return 0;
}

static struct state* new_state(int id) {
  struct state* st = calloc(1, sizeof *st);
  st->seed = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1) + 1;
  st->slot = calloc((size_t)g_slots, sizeof *st->slot);
  st->len = calloc((size_t)g_slots, sizeof *st->len);
  st->id = id;
  return st;
}

static uint64_t end_state(struct state* st) {
  for (int i = 0; i < g_slots; ++i)
    free(st->slot[i]);
  uint64_t sum = st->sum;
  free(st->slot);
  free(st->len);
  free(st);
  return sum;
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
  g_slots = env_int("LT_SLOTS", 512);
  g_short = env_int("LT_SHORT", 0);
  g_fork = env_int("LT_FORK", 0);
  g_trim = env_int("LT_TRIM", 0);
  pthread_t t[64];
  if (threads < 1 || threads > 64 || g_slots < 1) return 2;
  struct state* st[64] = {0};
  for (int i = 0; i < threads; ++i)
    st[i] = new_state(i);
  uint64_t total = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int r = 0; r < (g_short ? g_rounds : 1); ++r) { /* LT_SHORT: new threads every round */
    for (int i = 1; i < threads; ++i)
      pthread_create(&t[i], 0, run_rounds, st[i]);
    run_rounds(st[0]);
    for (int i = 1; i < threads; ++i)
      pthread_join(t[i], 0);
  }
  for (int i = 0; i < threads; ++i)
    total += end_state(st[i]);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (env_int("LT_TIME", 0))
    fprintf(stderr, "elapsed_ns=%lld\n",
            (long long)(t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
  printf("live_target: %d threads x %d rounds x %d ops, checksum %llu\n", threads, g_rounds, g_ops,
         (unsigned long long)total);
  return 0;
}
