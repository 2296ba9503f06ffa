/* stash_arena.c: a chunk of one arena stashed into another arena's thread's tcache.
 * A worker thread (its own arena) leaves two 208-byte chunks in a smallbin, then main reallocs
 * one of the worker's blocks so that it must move: glibc's realloc mallocs in the block's arena,
 * takes one chunk from that smallbin and stashes the other into *main's* tcache, under the
 * worker arena's lock. That stash is a change to the worker's arena (its bin loses a chunk), so
 * its event must tick that arena's clock (docs/trace-format.md, "Order of events"); it used to
 * tick main's, and a threaded recording then replayed the stash before the arena's own earlier
 * events now and then. Prints the two chunks' user pointers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void* a[9];
static void* guards[10];
static void* block;

static void* worker(void* arg) {
  (void)arg;
  block = malloc(100); /* the block main reallocs: guards[0] keeps it from growing in place */
  guards[0] = malloc(24);
  for (int i = 0; i < 9; ++i) {
    a[i] = malloc(200); /* 208-byte chunks, each followed by a guard so none merges */
    guards[i + 1] = malloc(24);
  }
  for (int i = 0; i < 9; ++i)
    free(a[i]);             /* 7 fill the worker's tcache, a[7] and a[8] go to unsorted */
  void* big = malloc(1000); /* the unsorted scan sorts a[7] and a[8] into their smallbin */
  return big;
}

int main(void) {
  free(malloc(10)); /* main's tcache exists */
  pthread_t t;
  void* big;
  if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, &big) != 0) return 2;
  void* moved = realloc(block, 200);
  if (moved == NULL || moved == block) return 3;
  printf("%p %p\n", a[7], a[8]);
  free(moved);
  free(big);
  return 0;
}
