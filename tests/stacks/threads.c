/* threads.c - four threads, each leaking 10 blocks of 48 bytes at SITE_T (40 blocks, 1920 bytes). */
#include <pthread.h>
#include <stdlib.h>

__attribute__((noinline)) void* thread_fn(void* arg) {
  for (int i = 0; i < 10; ++i) {
    void* p = malloc(48); /* SITE_T */
    __asm__ volatile("" ::"r"(p) : "memory");
  }
  return arg;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; ++i)
    if (pthread_create(&t[i], NULL, thread_fn, NULL)) return 1;
  for (int i = 0; i < 4; ++i)
    pthread_join(t[i], NULL);
  return 0;
}
