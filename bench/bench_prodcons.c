/* bench_prodcons: 4 threads in 2 pairs; within a pair each thread sends malloc'ed messages to its
 * partner through a lock-free single-producer/single-consumer ring and frees the messages it
 * receives, so every thread frees chunks that another thread allocated (cross-thread and
 * cross-arena frees).
 *   bench_prodcons [MESSAGES_PER_THREAD] [SEED]     default 3000000
 * The checksum is a sum over all received messages, independent of scheduling. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "bench_common.h"

#define THREADS 4
#define RING 1024 /* power of two */

typedef struct {
  _Alignas(64) _Atomic uint64_t head; /* written by the consumer */
  _Alignas(64) _Atomic uint64_t tail; /* written by the producer */
  _Alignas(64) void* slot[RING];
} ring;

typedef struct {
  uint32_t size, from;
  uint64_t seq;
  uint64_t tag;
} msg;

typedef struct {
  int id;
  long count;
  uint64_t seed;
  ring *out, *in;
  uint64_t sum;
} worker;

/* Only the producer pushes, so a ring that is not full stays not full until its next push. */
static int ring_full(ring* r) {
  return atomic_load_explicit(&r->tail, memory_order_relaxed) -
             atomic_load_explicit(&r->head, memory_order_acquire) ==
         RING;
}

static void ring_push(ring* r, void* p) {
  uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  r->slot[t & (RING - 1)] = p;
  atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

static void* ring_pop(ring* r) {
  uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (h == atomic_load_explicit(&r->tail, memory_order_acquire)) return NULL;
  void* p = r->slot[h & (RING - 1)];
  atomic_store_explicit(&r->head, h + 1, memory_order_release);
  return p;
}

static void* work(void* arg) {
  worker* w = arg;
  bench_rng r = {w->seed};
  long sent = 0, received = 0;
  uint64_t sum = 0;
  while (sent < w->count || received < w->count) {
    int progress = 0;
    for (int burst = 0; burst < 32 && sent < w->count && !ring_full(w->out); burst++) {
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
      ring_push(w->out, m);
      sent++;
      progress = 1;
    }
    for (int burst = 0; burst < 64; burst++) {
      msg* m = ring_pop(w->in);
      if (!m) break;
      if (m->tag != m->seq * 2654435761u + m->from ||
          ((unsigned char*)m)[m->size - 1] != (unsigned char)(m->seq ^ m->size)) {
        fprintf(stderr, "bench_prodcons: corrupted message\n");
        exit(1);
      }
      sum += m->tag ^ ((uint64_t)m->size << 40);
      free(m);
      received++;
      progress = 1;
    }
    if (!progress) sched_yield();
  }
  w->sum = sum;
  return NULL;
}

int main(int argc, char** argv) {
  long count = bench_arg(argc, argv, 1, 3000000);
  uint64_t seed = (uint64_t)bench_arg(argc, argv, 2, 0x5eed);
  static ring rings[THREADS];
  worker w[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    int partner = i ^ 1;
    w[i] =
        (worker){i, count, (seed + (uint64_t)i) * 0x9e3779b97f4a7c15ull | 1, &rings[i], &rings[partner], 0};
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
