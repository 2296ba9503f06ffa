/* bench_prodcons: 4 threads in 2 pairs; within a pair each thread sends malloc'ed messages to its
 * partner in batches through a mutex/condvar queue and frees the messages (and batches) it
 * receives, so every thread frees chunks that another thread allocated (cross-thread and
 * cross-arena frees). Threads sleep on a condition variable instead of spinning, so the time is
 * spent in malloc/free rather than in the scheduler.
 *   bench_prodcons [MESSAGES_PER_THREAD] [SEED]     default 3000000
 * The checksum is a sum over all received messages, independent of scheduling. */
#include <pthread.h>
#include <string.h>

#include "bench_common.h"

#define THREADS 4
#define BATCH 64      /* messages per batch */
#define MAX_QUEUED 16 /* batches in flight per direction */

typedef struct {
  uint32_t size, from;
  uint64_t seq;
  uint64_t tag;
} msg;

typedef struct batch {
  struct batch* next;
  int n;
  msg* m[BATCH];
} batch;

typedef struct {
  batch *head, *tail;
  int count;
} queue;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* broadcast on every push and pop in this pair */
  queue q[2];        /* q[i]: messages for thread (pair base + i) */
} pair;

typedef struct {
  int id;
  long count;
  uint64_t seed;
  pair* p;
  queue *out, *in;
  uint64_t sum;
} worker;

static void push(queue* q, batch* b) {
  b->next = NULL;
  if (q->tail)
    q->tail->next = b;
  else
    q->head = b;
  q->tail = b;
  q->count++;
}

static batch* take_all(queue* q) {
  batch* b = q->head;
  q->head = q->tail = NULL;
  q->count = 0;
  return b;
}

static void* work(void* arg) {
  worker* w = arg;
  bench_rng r = {w->seed};
  long sent = 0, received = 0;
  uint64_t sum = 0;
  pthread_mutex_lock(&w->p->mu);
  while (sent < w->count || received < w->count) {
    while (!w->in->head && !(sent < w->count && w->out->count < MAX_QUEUED))
      pthread_cond_wait(&w->p->cv, &w->p->mu);
    batch* got = take_all(w->in);
    int can_send = sent < w->count && w->out->count < MAX_QUEUED;
    if (got) pthread_cond_broadcast(&w->p->cv); /* the partner may wait for queue space */
    pthread_mutex_unlock(&w->p->mu);

    while (got) {
      batch* next = got->next;
      for (int i = 0; i < got->n; i++) {
        msg* m = got->m[i];
        if (m->tag != m->seq * 2654435761u + m->from ||
            ((unsigned char*)m)[m->size - 1] != (unsigned char)(m->seq ^ m->size)) {
          fprintf(stderr, "bench_prodcons: corrupted message\n");
          exit(1);
        }
        sum += m->tag ^ ((uint64_t)m->size << 40);
        free(m);
      }
      received += got->n;
      free(got);
      got = next;
    }

    batch* b = NULL;
    if (can_send) {
      b = malloc(sizeof *b);
      if (!b) exit(1);
      b->n = 0;
      while (b->n < BATCH && sent < w->count) {
        uint32_t size = (bench_below(&r, 100) == 0) ? 2048 + bench_below(&r, 8192)
                                                    : (uint32_t)sizeof(msg) + 1 + bench_below(&r, 480);
        msg* m = malloc(size);
        if (!m) {
          fprintf(stderr, "bench_prodcons: malloc failed\n");
          exit(1);
        }
        m->size = size;
        m->from = (uint32_t)w->id;
        m->seq = (uint64_t)sent;
        m->tag = (uint64_t)sent * 2654435761u + (uint64_t)w->id;
        ((unsigned char*)m)[size - 1] = (unsigned char)(sent ^ size);
        b->m[b->n++] = m;
        sent++;
      }
    }
    pthread_mutex_lock(&w->p->mu);
    if (b) {
      push(w->out, b);
      pthread_cond_broadcast(&w->p->cv);
    }
  }
  pthread_mutex_unlock(&w->p->mu);
  w->sum = sum;
  return NULL;
}

int main(int argc, char** argv) {
  long count = bench_arg(argc, argv, 1, 3000000);
  uint64_t seed = (uint64_t)bench_arg(argc, argv, 2, 0x5eed);
  static pair pairs[THREADS / 2];
  worker w[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS / 2; i++) {
    pthread_mutex_init(&pairs[i].mu, NULL);
    pthread_cond_init(&pairs[i].cv, NULL);
  }
  for (int i = 0; i < THREADS; i++) {
    pair* p = &pairs[i / 2];
    w[i] = (worker){
        i, count, (seed + (uint64_t)i) * 0x9e3779b97f4a7c15ull | 1, p, &p->q[(i & 1) ^ 1], &p->q[i & 1], 0};
  }
  uint64_t t0 = bench_now_ns();
  for (int i = 0; i < THREADS; i++) {
    if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
      fprintf(stderr, "bench_prodcons: pthread_create failed\n");
      return 1;
    }
  }
  uint64_t sum = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    sum += w[i].sum;
  }
  uint64_t t1 = bench_now_ns();
  bench_report("bench_prodcons", sum, (uint64_t)count * THREADS * 2, t1 - t0);
  return 0;
}
