/* heap_bugs.c MODE - one heap bug per mode, for HEAPVIZ_CHECKS (checks_test.sh). Each is run
 * natively (glibc's message where glibc sees the bug, nothing where it does not) and under
 * heapviz with checks on (the same message where glibc sees it, else a `heapviz:` line), and
 * recorded (`heapviz errors --json`: the kind and the stacks). The layouts rely on glibc 2.36's
 * decisions, which libhvalloc reproduces. Every mode ends in exit(0) if nothing stopped it. */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void* keep(void* p) { /* the compiler must not see through the bugs */
  __asm__ volatile("" : "+r"(p) : : "memory");
  return p;
}

static void* arena_block; /* a block of another thread's arena */
/* glibc_sees_bad_size: the block after the one whose header is overwritten, checked at the abort. */
static size_t* after_header;
static void say_after(int sig) {
  (void)sig;
  char line[80];
  int n = snprintf(line, sizeof line, "heap_bugs: the next header holds %#zx, its data %#zx\n",
                   after_header[0], after_header[1]);
  fwrite(line, 1, (size_t)n, stderr);
  signal(SIGABRT, SIG_DFL);
}
static void* thread_alloc(void* arg) {
  (void)arg;
  arena_block = keep(malloc(100));
  memset(arena_block, 0, 100);
  return NULL;
}

static void* tcache_block;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;
static void* thread_free(void* arg) { /* frees the block, then lives on with it in its tcache */
  (void)arg;
  free(tcache_block);
  pthread_mutex_lock(&mu);
  stage = 1;
  pthread_cond_broadcast(&cv);
  while (stage != 2)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* threads_clean: four threads allocate, reallocate and free, and free each other's blocks
 * (through a shared pool) in every arena: no check may fire. */
#define POOL 256
static void* pool[POOL];
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static void* churn(void* arg) {
  unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
  void* mine[64] = {0};
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245u + 12345u;
    unsigned k = (x >> 8) % 64, n = (x >> 16) % 2000 + 1;
    if (mine[k] && (x & 3) == 0) {
      mine[k] = keep(realloc(mine[k], n));
    } else {
      if (mine[k]) {
        pthread_mutex_lock(&pool_mu); /* hand it to whichever thread frees it */
        unsigned j = (x >> 4) % POOL;
        void* old = pool[j];
        pool[j] = mine[k];
        pthread_mutex_unlock(&pool_mu);
        free(old);
      }
      mine[k] = keep(malloc(n));
      memset(mine[k], (int)k, n);
    }
  }
  for (int k = 0; k < 64; ++k)
    free(mine[k]);
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "tcache_double_free")) { /* glibc: free(): double free detected in tcache 2 */
    void* p = keep(malloc(40));
    free(p);
    free(keep(p));
  } else if (!strcmp(mode, "fastbin_double_free")) { /* glibc misses it: not the bin's top */
    void* p[9];
    for (int i = 0; i < 9; ++i)
      p[i] = keep(malloc(24));
    keep(malloc(24));
    for (int i = 0; i < 9; ++i) /* seven fill the tcache bin, 7 and 8 go to the fastbin */
      free(p[i]);
    free(keep(p[7])); /* p[8] heads the fastbin: fasttop does not see p[7] */
  } else if (!strcmp(mode, "consolidated_double_free")) { /* glibc: double free or corruption (top) */
    void* p[8];
    for (int i = 0; i < 8; ++i)
      p[i] = keep(malloc(300));
    for (int i = 0; i < 7; ++i) /* the tcache bin of 0x140 is full */
      free(p[i]);
    free(p[7]); /* merges into top */
    free(keep(p[7]));
  } else if (!strcmp(mode, "unsorted_double_free")) { /* glibc misses it: the tcache takes it */
    void* p[8];
    for (int i = 0; i < 8; ++i)
      p[i] = keep(malloc(300));
    keep(malloc(24));
    for (int i = 0; i < 7; ++i)
      free(p[i]);
    free(p[7]);                  /* unsorted (its tcache bin is full) */
    void* q = keep(malloc(300)); /* takes one back from the tcache: room again */
    free(keep(p[7]));
    free(q);
  } else if (!strcmp(mode, "stack_pointer")) { /* glibc: free(): invalid pointer */
    uintptr_t local[8] = {0};
    free(keep(&local[2]));
  } else if (!strcmp(mode, "stack_pointer_a_bit")) { /* glibc: SIGSEGV, no message */
    /* The word before the fake chunk's user pointer has the A (non-main arena) bit: glibc reads
       a heap header at the pointer rounded down to 64 MiB, below the stack: unmapped. */
    uintptr_t local[8] = {0, 0x55, 0, 0, 0, 0, 0, 0};
    free(keep(&local[2]));
  } else if (!strcmp(mode, "interior_pointer")) { /* glibc: free(): invalid pointer (size 0) */
    char* a = keep(malloc(100));
    memset(a, 0, 100);
    free(keep(a + 32));
  } else if (!strcmp(mode, "interior_plausible")) { /* glibc misses it: the fake size looks fine */
    char* a = keep(malloc(100));
    memset(a, 0, 100);
    ((size_t*)a)[3] = 0x31; /* a chunk header at a + 16: free(a + 32) takes a 0x30 chunk */
    free(keep(a + 32));
  } else if (!strcmp(mode, "other_arena")) { /* glibc: free(): invalid pointer */
    pthread_t t;
    pthread_create(&t, NULL, thread_alloc, NULL);
    pthread_join(t, NULL);
    free(keep((char*)arena_block + 48));
  } else if (!strcmp(mode, "slack_overflow")) { /* glibc misses it: 1 byte into the slack */
    char* a = keep(malloc(20));
    keep(malloc(20));
    a[20] = 'x';
    free(keep(a));
  } else if (!strcmp(mode, "header_overflow")) { /* glibc misses it: 8 bytes into the next header */
    char* a = keep(malloc(40));
    char* b = keep(malloc(40));
    memset(a, 'A', 48);
    free(keep(a));
    keep(b);
  } else if (!strcmp(mode, "header_overflow_victim")) {
    /* munmap_chunk(): invalid pointer: 8 bytes into the next header ('B' sets its M bit), and that
     * block freed first: glibc sees it at this free, so its verdict and message come first. */
    char* a = keep(malloc(24));
    char* b = keep(malloc(24));
    memset(a, 'B', 32);
    free(keep(b));
    keep(a);
  } else if (!strcmp(mode, "header_overflow_plausible")) {
    /* glibc misses it: a plausible size (0x31 for 0x21) over the next header, that block freed
     * first: its own header check names it, and the block before it that ends there. */
    char* a = keep(malloc(24));
    char* b = keep(malloc(24));
    size_t v = 0x31;
    memcpy(a + 24, &v, sizeof v);
    free(keep(b));
    keep(a);
  } else if (!strcmp(mode, "glibc_sees_bad_size")) {
    /* free(): invalid size: b's size word overwritten with 0x38 (glibc rejects it at the free). The
     * checks leave it to glibc, and must not fill b's chunk by that size: c's header and data
     * stay as they are (say_after prints them at the abort). */
    char* a = keep(malloc(24));
    char* b = keep(malloc(24));
    size_t* c = keep(malloc(24));
    c[0] = 0x1234;
    after_header = c - 1;
    size_t v = 0x38;
    memcpy(a + 24, &v, sizeof v);
    signal(SIGABRT, say_after);
    free(keep(b));
  } else if (!strcmp(mode, "exit_overflow")) { /* glibc misses it: never freed, seen at exit */
    char* a = keep(malloc(20));
    a[22] = 'x';
  } else if (!strcmp(mode, "write_after_free")) { /* glibc misses it */
    char* a = keep(malloc(100));
    free(a);
    a[20] = 'w';                               /* within the pattern: 32 bytes past the tcache's two words */
    keep(malloc(100));                         /* the tcache hands a out again */
  } else if (!strcmp(mode, "realloc_freed")) { /* glibc misses it */
    char* a = keep(malloc(100));
    free(a);
    keep(realloc(keep(a), 200));
  } else if (!strcmp(mode, "thread_double_free")) { /* glibc misses it: another thread's tcache */
    tcache_block = keep(malloc(64));
    pthread_t t;
    pthread_create(&t, NULL, thread_free, NULL);
    pthread_mutex_lock(&mu);
    while (stage != 1)
      pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    free(keep(tcache_block));
    pthread_mutex_lock(&mu);
    stage = 2;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "threads_clean")) {
    pthread_t t[4];
    for (int i = 0; i < 4; ++i)
      pthread_create(&t[i], NULL, churn, (void*)(uintptr_t)(i + 1));
    for (int i = 0; i < 4; ++i)
      pthread_join(t[i], NULL);
    for (int j = 0; j < POOL; ++j)
      free(pool[j]);
  } else if (!strcmp(mode, "clean")) { /* no bug: checks must stay silent */
    void* p[64];
    for (int r = 0; r < 50; ++r) {
      for (int i = 0; i < 64; ++i) {
        p[i] = keep(malloc((size_t)(i * 37 + r * 13) % 3000 + 1));
        memset(p[i], i, (size_t)(i * 37 + r * 13) % 3000 + 1);
      }
      for (int i = 0; i < 64; i += 2)
        free(p[i]);
      for (int i = 0; i < 64; i += 4)
        p[i] = keep(realloc(NULL, 500));
      for (int i = 1; i < 64; i += 2)
        p[i] = keep(realloc(p[i], (size_t)i * 50));
      for (int i = 0; i < 64; ++i)
        if (i % 2 || i % 4 == 0) free(p[i]);
    }
    free(keep(calloc(10, 100)));
    char* u = keep(malloc(20)); /* malloc_usable_size says 24: all 24 bytes are the program's */
    memset(u, 1, malloc_usable_size(u));
    free(u);
    free(keep(malloc(300000)));
  } else {
    fprintf(stderr, "usage: heap_bugs MODE (see heap_bugs.c)\n");
    return 2;
  }
  return 0;
}
