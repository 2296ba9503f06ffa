/* mark_after_barrier.c: THREADS workers churn fast (so that each reads its clock only every few
 * calls, TraceSink::stamp), wait at a barrier until all are done, and worker 0 then puts the mark
 * "steady" (after a 5 ms pause). A second barrier holds every worker until 5 ms after the mark;
 * then they exit, and each thread's exit flushes its tcache into its arena.
 * For Record.MarksAndThreadExitsTakeTheirOwnTime: the mark comes after every call of the churn
 * in the trace's order, and each exit's flush after the mark. (Stamped with the thread's last
 * reading, the mark landed among the other workers' churn, and every `--at mark:steady` showed
 * a heap from before it; the flush carried the time of its thread's last call.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "heapviz/hvalloc.h"

#define THREADS 4
#define OPS 20000
static pthread_barrier_t done, leave;

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

static void* worker(void* arg) {
  long id = (long)arg;
  static __thread void* slot[256];
  unsigned s = (unsigned)id * 2654435761u + 7;
  for (int i = 0; i < OPS; i++) {
    s = s * 1103515245u + 12345u;
    void** p = &slot[(s >> 8) % 256];
    if (*p) {
      free(*p);
      *p = NULL;
    } else {
      *p = malloc(16 + (s >> 20) % 200);
    }
  }
  pthread_barrier_wait(&done);
  if (id == 0) {
    pause_ms(5);
    HV_MARK("steady");
  }
  pthread_barrier_wait(&leave);
  if (id == 0) pause_ms(5);
  pthread_barrier_wait(&leave);
  return NULL; /* the slots stay allocated; the tcache is flushed at exit */
}

int main(void) {
  pthread_t t[THREADS];
  pthread_barrier_init(&done, NULL, THREADS);
  pthread_barrier_init(&leave, NULL, THREADS);
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, worker, (void*)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  puts("mark_after_barrier: done");
  return 0;
}
