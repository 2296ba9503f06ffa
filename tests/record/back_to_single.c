// back_to_single.c - a process that is threaded for a while, then single-threaded again as glibc
// says it (__libc_single_threaded set back, as heapviz's live server does after starting its own
// thread): its events go back to one counter, which must go on above every number the threads'
// clocks gave out (back_to_single_test.sh records it and checks the trace).
#include <pthread.h>
#include <stdlib.h>
#include <sys/single_threaded.h>

static void* worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 2000; ++i)
    free(malloc(32 + (size_t)(i % 200)));
  return NULL;
}

int main(void) {
  void* keep[200];
  for (int i = 0; i < 200; ++i)
    keep[i] = malloc(64 + (size_t)i);
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 2;
  pthread_join(t, NULL);
  for (int i = 0; i < 500; ++i) // main's own events while the process is threaded
    free(malloc(48 + (size_t)(i % 100)));
  __libc_single_threaded = 1;
  for (int i = 0; i < 200; ++i) {
    free(keep[i]);
    free(malloc(80 + (size_t)i));
  }
  return 0;
}
