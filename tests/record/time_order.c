/* time_order.c [ROUNDS]: three threads that allocate in short bursts (fewer calls than the
 * allocator's clock-reading interval) and then sleep for 1 to 12 ms, out of step with each other.
 * A thread that reused its last clock reading after a pause used to stamp its events with a
 * time from before the pause, behind the other threads' events already written (time ran back
 * by up to the pause). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static int rounds = 40;

static void* worker(void* arg) {
  uint32_t r = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
  void* keep[3] = {0, 0, 0};
  for (int i = 0; i < rounds; ++i) {
    for (int k = 0; k < 3; ++k) { /* a burst: 3 frees and 3 mallocs */
      free(keep[k]);
      keep[k] = malloc(16 + (r >> 24));
      r = r * 1103515245u + 12345u;
    }
    struct timespec ts = {0, (long)(1 + (r >> 16) % 12) * 1000000L};
    nanosleep(&ts, NULL);
  }
  for (int k = 0; k < 3; ++k)
    free(keep[k]);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) rounds = atoi(argv[1]);
  pthread_t t[3];
  for (int i = 0; i < 3; ++i)
    pthread_create(&t[i], NULL, worker, (void*)(uintptr_t)(i + 1));
  for (int i = 0; i < 3; ++i)
    pthread_join(t[i], NULL);
  return 0;
}
