/* arena_growth.c - drives non-main arenas through their whole life, for a recording checked
 * against the allocator's own snapshots (arena_growth_test.sh).
 *
 * usage: hv_record_arena_growth SEED
 *
 * Phase 0 (main thread, still single-threaded): the program moves the break itself (sbrk), so
 * the main arena's next growth starts a new segment: fenceposts, and the old top is freed.
 * Phase 1, one thread at a time, each in an arena of its own (white-box: the layout is glibc
 * 2.36's, heap_info's size is its third word), a heap filled up to a chosen size with a chosen
 * top, then a request the heap cannot grow for, so a new 64 MiB heap is made and the old top is
 * retired:
 *   S1a/S1b  top 0x20 / 0x30 at HEAP_MAX: the old top is too small to free, a fencepost scrap;
 *   S2       top 0x60, heap 36 MiB, a 31 MiB chunk: the old top goes to the tcache; freeing the
 *            chunk deletes the new heap (heap_trim), top becomes the old heap's fencepost;
 *   S3       top 0x800: the old top goes to the unsorted bin and becomes top again when the new
 *            heap is deleted (backward consolidation);
 *   S4       top 256 KiB at HEAP_MAX (trim threshold raised): the old top's free deletes the new
 *            heap at once, sysmalloc fails and malloc retries in the main arena.
 * Phase 2, three rounds of 6, 7 and 8 threads (M_ARENA_MAX is 7: free_list reuse of the arenas
 * of exited threads, a new arena, and reused_arena): random small, medium, big (4-24 MiB, from the
 * heaps: the mmap threshold is 32 MiB) and mmapped requests, realloc, calloc, aligned_alloc,
 * frees, malloc_trim, and blocks handed to a shared pool that any thread frees (cross-arena
 * frees, also of blocks whose thread has exited). Heaps grow past HEAP_MAX, shrink and go away.
 *
 * Exits 0, or 1 (with a line on stderr) when a layout assumption of phase 1 failed. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAP_MAX ((size_t)64 << 20)
#define MIB ((size_t)1 << 20)

static uint64_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int g_failed;
static void expect(int ok, const char* scenario, const char* what) {
  if (ok) return;
  fprintf(stderr, "arena_growth: %s: %s\n", scenario, what);
  g_failed = 1;
}

/* ---- Phase 1: white-box helpers (glibc 2.36's chunk and heap_info layout) */
static size_t head(const void* mem) {
  return *(const size_t*)((uintptr_t)mem - sizeof(size_t));
}
static size_t csize(const void* mem) {
  return head(mem) & ~(size_t)7;
}
static int non_main(const void* mem) {
  return (head(mem) & 4) != 0;
}
/* The chunk right after mem's, as a user pointer: top, when mem was just carved from it. */
static char* after(void* mem) {
  return (char*)mem + csize(mem);
}
static uintptr_t heap_of(const void* p) {
  return (uintptr_t)p & ~(HEAP_MAX - 1);
}
static size_t heap_size(const void* p) {
  return ((const size_t*)heap_of(p))[2];
}

/* Carves chunks from top (the arena is fresh: no bin holds a chunk) until the heap holding
 * `last` (the last chunk carved) is `limit` bytes and its top `want` (0x20 <= want < 4096 + 0x20:
 * grow_heap rounds the growth up to a page). Returns the last chunk carved. */
static void* fill(void* last, size_t limit, size_t want) {
  for (;;) {
    char* top = after(last);
    size_t t = csize(top), room = limit - heap_size(top);
    size_t nb = t + room - want;
    if (nb > 17 * MIB) nb = 16 * MIB;
    last = malloc(nb - 8); /* request2size(nb - 8) == nb */
    if (!last || after(last) != top + nb) return NULL;
    if (nb != 16 * MIB) return last;
  }
}

/* A fresh arena's first chunks; the tcache struct came first. */
static void* start(void) {
  return malloc(1000);
}

static void s1(size_t want, const char* name) {
  void* last = fill(start(), HEAP_MAX, want);
  expect(last && csize(after(last)) == want && heap_size(last) == HEAP_MAX, name, "fill");
  if (!last) return;
  void* p = malloc(1000); /* a new heap: the old top becomes a fencepost scrap */
  expect(p && heap_of(p) != heap_of(last), name, "no new heap");
  free(last);
  free(p);
}

static void s2_s3(size_t want, const char* name) {
  void* last = fill(start(), 36 * MIB, want);
  expect(last && csize(after(last)) == want && heap_size(last) == 36 * MIB, name, "fill");
  if (!last) return;
  void* big = malloc(31 * MIB); /* 36 + 31 > 64 MiB: a new heap, the old top is freed */
  expect(big && heap_of(big) != heap_of(last), name, "no new heap");
  char* old_top = after(last);
  free(big); /* top at the new heap's start: heap_trim deletes it */
  void* p = malloc(want - 0x28);
  expect(want > 0x410 || p == old_top, name, "the old top did not come back from the tcache");
  void* q = malloc(2000); /* top grows again in the old heap */
  expect(q && heap_of(q) == heap_of(last), name, "not back in the old heap");
  free(p);
  free(q);
}

static void s4(void) {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  void* last = fill(start(), HEAP_MAX - 256 * 1024, 0x30);
  void* l = last ? malloc(256 * 1024 - 8) : NULL;
  expect(l && csize(after(l)) == 0x30 && heap_size(l) == HEAP_MAX, "S4", "fill");
  free(l); /* top: 256 KiB + 0x30, no room to grow */
  void* r = malloc(512 * 1024);
  expect(r && !non_main(r), "S4", "not retried in the main arena");
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  free(r);
  free(last);
}

/* Scenario threads stay alive (their arenas attached) until every scenario has run. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_done, g_release;

static void* scenario(void* arg) {
  switch ((int)(intptr_t)arg) {
  case 0:
    s1(0x20, "S1a");
    break;
  case 1:
    s1(0x30, "S1b");
    break;
  case 2:
    s2_s3(0x60, "S2");
    break;
  case 3:
    s2_s3(0x800, "S3");
    break;
  default:
    s4();
    break;
  }
  pthread_mutex_lock(&g_mu);
  ++g_done;
  pthread_cond_broadcast(&g_cv);
  while (!g_release)
    pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

/* ---- Phase 2: random threads */
#define POOL 256
static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static void* g_pool[POOL];
static int g_pool_n;
static uint64_t g_seed;

static void pool_put(void* p) {
  pthread_mutex_lock(&g_pool_mu);
  if (g_pool_n < POOL) {
    g_pool[g_pool_n++] = p;
    p = NULL;
  }
  pthread_mutex_unlock(&g_pool_mu);
  free(p);
}
static void* pool_take(uint64_t* s) {
  void* p = NULL;
  pthread_mutex_lock(&g_pool_mu);
  if (g_pool_n > 0) {
    int i = (int)(rnd(s) % (uint64_t)g_pool_n);
    p = g_pool[i];
    g_pool[i] = g_pool[--g_pool_n];
  }
  pthread_mutex_unlock(&g_pool_mu);
  return p;
}

static size_t pick_size(uint64_t* s) {
  unsigned r = (unsigned)(rnd(s) % 100);
  if (r < 55) return 1 + rnd(s) % 1500;
  if (r < 80) return 2048 + rnd(s) % (200 * 1024);
  if (r < 96) return 4 * MIB + rnd(s) % (20 * MIB);
  return 33 * MIB + rnd(s) % (4 * MIB); /* mmapped */
}

#define SLOTS 40
static void* worker(void* arg) {
  uint64_t s = g_seed * 0x9e3779b97f4a7c15ull + (uint64_t)(uintptr_t)arg * 0x2545f4914f6cdd1dull + 1;
  void* slot[SLOTS] = {0};
  size_t bytes[SLOTS] = {0}, live = 0;
  for (int op = 0; op < 220; ++op) {
    int k = (int)(rnd(&s) % SLOTS);
    unsigned r = (unsigned)(rnd(&s) % 100);
    if (slot[k] && (r < 30 || live > 96 * MIB)) { /* free */
      free(slot[k]);
      live -= bytes[k];
      slot[k] = NULL;
    } else if (slot[k] && r < 40) { /* to the pool: some other thread frees it */
      pool_put(slot[k]);
      live -= bytes[k];
      slot[k] = NULL;
    } else if (slot[k] && r < 48) {
      size_t n = pick_size(&s);
      void* p = realloc(slot[k], n);
      if (p) {
        memset(p, 0x5a, n < 64 ? n : 64);
        live += n - bytes[k];
        slot[k] = p;
        bytes[k] = n;
      }
    } else if (!slot[k]) {
      size_t n = pick_size(&s);
      void* p;
      if (r < 5)
        p = calloc(1, n);
      else if (r < 10)
        p = aligned_alloc((size_t)64 << (rnd(&s) % 7), n);
      else
        p = malloc(n);
      if (p) {
        memset(p, 0xa5, n < 64 ? n : 64);
        slot[k] = p;
        bytes[k] = n;
        live += n;
      }
    } else if (r < 52) {
      free(pool_take(&s));
    } else if (r < 54) {
      malloc_trim(r & 1 ? 0 : 65536);
    }
  }
  for (int k = 0; k < SLOTS; ++k)
    if (slot[k]) {
      if (rnd(&s) % 2)
        free(slot[k]);
      else
        pool_put(slot[k]);
    }
  return NULL;
}

int main(int argc, char** argv) {
  g_seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_ARENA_MAX, 7);

  /* Phase 0: the break moves behind the allocator's back. */
  void* keep[4];
  keep[0] = malloc(1000);
  if (sbrk(65536) == (void*)-1) return 1;
  for (int i = 1; i < 4; ++i)
    keep[i] = malloc(60 * 1024);

  /* Phase 1: one scenario thread at a time, each in a new arena (none has exited yet). */
  pthread_t t[16];
  for (int i = 0; i < 5; ++i) {
    pthread_create(&t[i], NULL, scenario, (void*)(intptr_t)i);
    pthread_mutex_lock(&g_mu);
    while (g_done <= i)
      pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
  }
  pthread_mutex_lock(&g_mu);
  g_release = 1;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (int i = 0; i < 5; ++i)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 4; ++i)
    free(keep[i]);

  /* Phase 2: rounds of threads; the arenas of the last round's threads are reused. */
  for (int round = 0; round < 3; ++round) {
    int n = 6 + round;
    for (int i = 0; i < n; ++i)
      pthread_create(&t[i], NULL, worker, (void*)(intptr_t)(round * 16 + i));
    for (int i = 0; i < n; ++i)
      pthread_join(t[i], NULL);
  }
  uint64_t s = g_seed;
  for (void* p; (p = pool_take(&s));)
    free(p);
  malloc_trim(0);
  return g_failed;
}
