/* before_attach.c GO_FILE: 1000 blocks of 100 bytes and two mmapped ones (200000 and 300000
 * bytes), then "ready" on stdout; it waits (30 s at most) until GO_FILE exists (heapviz has
 * attached), then frees 300 of the small blocks and the 300000-byte one, and allocates 50 of 200
 * bytes. The capture's blocks from before the trace are its baseline's less those 300
 * (docs/cli.md, "Blocks from before the trace"). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  static void* keep[1000];
  static void* fresh[50];
  for (int i = 0; i < 1000; ++i)
    keep[i] = malloc(100);
  void* big_kept = malloc(200000);
  void* big_freed = malloc(300000);
  printf("ready\n");
  fflush(stdout);
  for (int t = 0; t < 3000 && access(argv[1], F_OK) != 0; ++t) {
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < 600; i += 2)
    free(keep[i]);
  free(big_freed);
  for (int i = 0; i < 50; ++i)
    fresh[i] = malloc(200);
  /* a moment for the viewer's stream, then exit with everything else still allocated */
  struct timespec ts = {0, 50000000L};
  nanosleep(&ts, NULL);
  return fresh[49] && big_kept ? 0 : 1;
}
