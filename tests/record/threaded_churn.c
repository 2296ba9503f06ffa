/* threaded_churn THREADS OPS: half the threads churn blocks of their own (8 B - 600 B, in their
 * own arenas), the other half pass blocks through one shared pool, freeing and reallocating what
 * another thread allocated. For Record.ThreadedVerifyReplaysExactly (issue 20): the order of a
 * threaded recording (docs/trace-format.md, "Order of events") must replay exactly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SLOTS 1024
static long ops;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void* pool[64];
static int npool;

static void* own(void* arg) {
  static __thread void* slot[SLOTS];
  unsigned s = (unsigned)(long)arg * 2654435761u + 1;
  for (long i = 0; i < ops; i++) {
    s = s * 1103515245u + 12345u;
    void** p = &slot[(s >> 8) % SLOTS];
    if (*p) {
      free(*p);
      *p = NULL;
    } else {
      *p = malloc(8 + (s >> 20) % 600);
    }
  }
  for (int k = 0; k < SLOTS; k++)
    free(slot[k]);
  return NULL;
}

static void put(void* p) {
  pthread_mutex_lock(&lock);
  if (npool < 64) {
    pool[npool++] = p;
    p = NULL;
  }
  pthread_mutex_unlock(&lock);
  free(p);
}

static void* shared(void* arg) {
  long id = (long)arg;
  for (long i = 0; i < ops / 2; i++) {
    pthread_mutex_lock(&lock);
    void* p = npool ? pool[--npool] : NULL;
    pthread_mutex_unlock(&lock);
    if (p && (i & 1)) /* another thread's block: freed here */
      free(p);
    else if (p) /* or moved and handed on */
      put(realloc(p, 100 + (size_t)(i * 13 + id) % 1500));
    put(malloc(16 + (size_t)(i * 7 + id) % 2000));
  }
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  ops = argc > 2 ? atol(argv[2]) : 100000;
  if (n < 2 || n > 64) return 2;
  pthread_t t[64];
  for (long i = 0; i < n; i++)
    pthread_create(&t[i], NULL, i % 2 ? shared : own, (void*)i);
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < npool; i++)
    free(pool[i]);
  puts("ok");
  return 0;
}
