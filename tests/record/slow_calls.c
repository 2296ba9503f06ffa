/* slow_calls.c [ROUNDS]: one thread that mallocs and frees once every 3 ms. The allocator reads
 * its clock on every call of a thread that calls this slowly (TraceSink::stamp): each malloc's
 * time in the trace is its own. (Reading it on every 8th call whatever the pace, as before
 * 2026-12-07, stamped 7 of 8 of these calls with a time up to 21 ms stale.) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 16;
  for (int i = 0; i < rounds; ++i) {
    void* p = malloc(40 + (size_t)i);
    struct timespec ts = {0, 3000000L};
    nanosleep(&ts, NULL);
    free(p);
  }
  puts("slow_calls: done");
  return 0;
}
