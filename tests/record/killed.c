/* killed.c: a program that SIGKILL ends from outside (the OOM killer's way): nothing it can
 * catch, so nothing it flushes. `heapviz record` puts back what its buffers held.
 *   hv_record_killed single N   N malloc/free pairs, then "ready PID" and waits to be killed
 *   hv_record_killed threads N  4 threads make N mallocs each (size 1000 + thread), then "ready"
 *   hv_record_killed join N     the same, but the threads end and the program exits 0
 *   hv_record_killed fork N     N mallocs, fork; the child makes N mallocs of 2000 bytes and
 *                               waits to be killed ("ready CHILD"); the parent waits for it, makes
 *                               N more and exits 0. The child's clearing of the buffer it inherits
 *                               must not touch the parent's (shared files until the child moves). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long n;
static void* volatile sink;

static void ready(void) {
  char line[64];
  int len = snprintf(line, sizeof line, "ready %d\n", (int)getpid());
  if (write(1, line, (size_t)len) != len) _exit(3);
  for (;;)
    pause();
}

static int join;

static void* worker(void* arg) {
  long t = (long)arg;
  for (long i = 0; i < n; i++)
    sink = malloc((size_t)(1000 + t));
  while (!join)
    pause();
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  n = atol(argv[2]);
  if (strcmp(argv[1], "single") == 0) {
    static void* kept[64];
    for (long i = 0; i < n; i++) {
      void* p = malloc(16 + (size_t)(i % 200) * 8);
      free(kept[i % 64]);
      kept[i % 64] = p;
    }
    ready();
  }
  if (strcmp(argv[1], "join") == 0) {
    join = 1;
    pthread_t th[4];
    for (long t = 0; t < 4; t++)
      pthread_create(&th[t], NULL, worker, (void*)t);
    for (int t = 0; t < 4; t++)
      pthread_join(th[t], NULL);
    return 0;
  }
  if (strcmp(argv[1], "threads") == 0) {
    pthread_t th[4];
    for (long t = 0; t < 4; t++)
      pthread_create(&th[t], NULL, worker, (void*)t);
    usleep(300000); /* (the workers are done long before) */
    ready();
  }
  if (strcmp(argv[1], "fork") == 0) {
    for (long i = 0; i < n; i++)
      sink = malloc(500);
    pid_t c = fork();
    if (c == 0) {
      for (long i = 0; i < n; i++)
        sink = malloc(2000);
      ready();
    }
    int st;
    waitpid(c, &st, 0);
    for (long i = 0; i < n; i++)
      sink = malloc(500);
    return 0;
  }
  return 2;
}
