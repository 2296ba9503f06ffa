/* signal_exit.c: ends by a signal nobody handles, as a program under `| head`, Ctrl-C or kill.
 *   hv_record_signal_exit SIGNAL N   N malloc/free pairs of growing sizes, then raise(SIGNAL)
 *   hv_record_signal_exit wait N     the same, then says "ready" and waits to be killed
 *   hv_record_signal_exit _exit N    the same, then _exit(5): no exit handlers
 *   hv_record_signal_exit vfork N    the same, then a vfork child that _exits, then _exit(6) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  long n = atol(argv[2]);
  static void* kept[64];
  for (long i = 0; i < n; i++) {
    void* p = malloc(16 + (size_t)(i % 200) * 8);
    if (p) memset(p, 0, 16);
    free(kept[i % 64]);
    kept[i % 64] = p;
  }
  if (strcmp(argv[1], "_exit") == 0) _exit(5);
  if (strcmp(argv[1], "vfork") == 0) {
    pid_t c = vfork();
    if (c == 0) _exit(7); /* (shares our memory: must not flush our buffers) */
    _exit(6);
  }
  if (strcmp(argv[1], "wait") == 0) {
    printf("ready\n");
    fflush(stdout);
    for (;;)
      pause();
  }
  raise(atoi(argv[1]));
  return 0; /* not reached: the signal's default action ends the process */
}
