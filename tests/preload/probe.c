/* probe.c - exercises the real libhvalloc.so from inside a process (run with LD_PRELOAD).
 *
 * usage: hv_preload_probe threads|fork|errno|api|doublefree|badfree|threadexit
 * Each mode exits 0 on success; the heap-error modes are expected to abort. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*check_fn)(char*, size_t);
static check_fn hv_check;

static void must_be_preloaded(void) {
  hv_check = (check_fn)dlsym(RTLD_DEFAULT, "hvalloc_check");
  if (!hv_check) {
    fprintf(stderr, "probe: libhvalloc.so is not preloaded (no hvalloc_check symbol)\n");
    exit(3);
  }
}

static void check_heap(const char* when) {
  char msg[400];
  int r = hv_check(msg, sizeof msg);
  if (r != 0) {
    fprintf(stderr, "probe: heap check failed %s: %s\n", when, msg);
    exit(1);
  }
}

static uint64_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static size_t rsize(uint64_t* s) {
  switch (rnd(s) % 8) {
  case 0:
  case 1:
  case 2:
    return rnd(s) % 128;
  case 3:
  case 4:
    return 128 + rnd(s) % 900;
  case 5:
    return 1024 + rnd(s) % 20000;
  case 6:
    return 20000 + rnd(s) % 200000;
  default:
    return rnd(s) % 64;
  }
}

/* ---- threads: 4 threads, cross-thread frees through shared slots, checker every round ---- */
#define NT 4
#define SLOTS 512
static void* slots[NT][SLOTS];
static size_t sizes[NT][SLOTS];
static pthread_barrier_t bar;
static int round_no;

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
  for (int r = 0; r < 30; ++r) {
    int mine = (id + r) % NT; /* a different pool every round: frees cross threads */
    for (int i = 0; i < 4000; ++i) {
      int k = (int)(rnd(&s) % SLOTS);
      void** p = &slots[mine][k];
      if (*p) {
        unsigned char* b = *p;
        if (sizes[mine][k] && b[0] != (unsigned char)k) {
          fprintf(stderr, "probe: block data corrupted\n");
          exit(1);
        }
        if (rnd(&s) % 3 == 0) {
          size_t n = rsize(&s) + 1;
          void* q = realloc(*p, n);
          if (!q) exit(4);
          *p = q;
          sizes[mine][k] = n;
          ((unsigned char*)q)[0] = (unsigned char)k;
          continue;
        }
        free(*p);
        *p = NULL;
      } else {
        size_t n = rsize(&s) + 1;
        void* q = (rnd(&s) % 5 == 0) ? calloc(1, n) : malloc(n);
        if (!q) exit(4);
        ((unsigned char*)q)[0] = (unsigned char)k;
        *p = q;
        sizes[mine][k] = n;
      }
    }
    if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
      char when[32];
      snprintf(when, sizeof when, "after round %d", round_no++);
      check_heap(when);
    }
    pthread_barrier_wait(&bar);
  }
  return NULL;
}

static int mode_threads(void) {
  pthread_t t[NT];
  pthread_barrier_init(&bar, NULL, NT);
  for (int i = 0; i < NT; ++i)
    pthread_create(&t[i], NULL, worker, (void*)(intptr_t)i);
  for (int i = 0; i < NT; ++i)
    pthread_join(t[i], NULL);
  check_heap("after join");
  for (int i = 0; i < NT; ++i)
    for (int k = 0; k < SLOTS; ++k)
      free(slots[i][k]);
  check_heap("at the end");
  struct mallinfo2 m = mallinfo2();
  printf("threads ok: %d rounds, arena bytes %zu\n", round_no, m.arena);
  return 0;
}

/* ---- fork: allocate in threads while forking; the child allocates and exits ---- */
static volatile int stop;
static void* churn(void* arg) {
  uint64_t s = (uint64_t)(intptr_t)arg + 7;
  void* keep[64] = {0};
  while (!stop) {
    int k = (int)(rnd(&s) % 64);
    free(keep[k]);
    keep[k] = malloc(rsize(&s) + 1);
  }
  for (int k = 0; k < 64; ++k)
    free(keep[k]);
  return NULL;
}

static int mode_fork(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; ++i)
    pthread_create(&t[i], NULL, churn, (void*)(intptr_t)i);
  for (int i = 0; i < 200; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      void* p[100];
      for (int j = 0; j < 100; ++j)
        p[j] = malloc((size_t)j * 37 + 1);
      for (int j = 0; j < 100; ++j)
        free(p[j]);
      char msg[400];
      _exit(hv_check(msg, sizeof msg) == 0 ? 0 : 1);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "probe: child %d failed (status %#x)\n", i, st);
      return 1;
    }
  }
  stop = 1;
  for (int i = 0; i < 3; ++i)
    pthread_join(t[i], NULL);
  check_heap("after forks");
  printf("fork ok: 200 children\n");
  return 0;
}

/* ---- thread exit: threads that allocate and exit hand their arenas back ---- */
static void* short_lived(void* arg) {
  (void)arg;
  void* p[32];
  for (int i = 0; i < 32; ++i)
    p[i] = malloc((size_t)i * 50 + 8);
  for (int i = 0; i < 32; ++i)
    free(p[i]);
  return malloc(100); /* freed by the main thread */
}

static int mode_threadexit(void) {
  for (int round = 0; round < 50; ++round) {
    pthread_t t[8];
    for (int i = 0; i < 8; ++i)
      pthread_create(&t[i], NULL, short_lived, NULL);
    for (int i = 0; i < 8; ++i) {
      void* r;
      pthread_join(t[i], &r);
      free(r);
    }
  }
  check_heap("after 400 short-lived threads");
  printf("threadexit ok\n");
  return 0;
}

static volatile size_t huge = SIZE_MAX; /* volatile: keep the compiler from judging the calls */

static int mode_errno(void) {
  errno = 0;
  if (malloc(huge) != NULL || errno != ENOMEM) return 1;
  errno = 0;
  if (calloc(huge / 4, 8) != NULL || errno != ENOMEM) return 1;
  errno = 0;
  if (reallocarray(NULL, huge / 2, 4) != NULL || errno != ENOMEM) return 1;
  void* p;
  if (posix_memalign(&p, 3, 10) != EINVAL) return 1;
  errno = 77;
  free(malloc(5));
  if (errno != 77) return 1;
  printf("errno ok\n");
  return 0;
}

/* Reads the chunk header word before a user pointer: bit 0x2 is IS_MMAPPED. */
__attribute__((noinline)) static int is_mmapped(void* p) {
  size_t head;
  memcpy(&head, (char*)p - sizeof(size_t), sizeof head);
  return (head & 2) != 0;
}

static int mode_api(void) {
  void* p = aligned_alloc(4096, 100);
  if (((uintptr_t)p & 4095) != 0) return 1;
  void* v = valloc(10);
  if (((uintptr_t)v & 4095) != 0) return 1;
  void* pv = pvalloc(10);
  if (((uintptr_t)pv & 4095) != 0) return 1;
  void* m = memalign(256, 1000);
  if (((uintptr_t)m & 255) != 0 || malloc_usable_size(m) < 1000) return 1;
  free(p);
  free(v);
  free(pv);
  free(m);
  void* big = malloc(600000);
  if (!is_mmapped(big)) return 1; /* above the default 128 KiB threshold */
  free(big);
  if (mallopt(M_MMAP_THRESHOLD, 4 << 20) != 1) return 1;
  big = malloc(600000);
  if (is_mmapped(big)) return 1; /* below the new threshold: from the heap */
  free(big);
  void* a[100];
  for (int i = 0; i < 100; ++i)
    a[i] = malloc(10000);
  for (int i = 0; i < 100; ++i)
    free(a[i]);
  malloc_trim(0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  struct mallinfo mi = mallinfo();
#pragma GCC diagnostic pop
  if (mi.arena <= 0) return 1;
  malloc_stats();
  check_heap("after api calls");
  printf("api ok\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hv_preload_probe threads|fork|threadexit|errno|api|doublefree|badfree\n");
    return 2;
  }
  must_be_preloaded();
  const char* m = argv[1];
  if (!strcmp(m, "threads")) return mode_threads();
  if (!strcmp(m, "fork")) return mode_fork();
  if (!strcmp(m, "threadexit")) return mode_threadexit();
  if (!strcmp(m, "errno")) return mode_errno();
  if (!strcmp(m, "api")) return mode_api();
  if (!strcmp(m, "doublefree")) {
    void* a = malloc(24);
    free(a);
    free(a);
    return 0;
  }
  if (!strcmp(m, "badfree")) {
    static char buf[64] __attribute__((aligned(16)));
    free(buf + 16);
    return 0;
  }
  return 2;
}
