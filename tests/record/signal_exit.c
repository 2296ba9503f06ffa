/* signal_exit.c: ends by a signal nobody handles, as a program under `| head`, Ctrl-C or kill.
 *   hv_record_signal_exit SIGNAL N   N malloc/free pairs of growing sizes, then raise(SIGNAL)
 *   hv_record_signal_exit wait N     the same, then says "ready" and waits to be killed
 *   hv_record_signal_exit _exit N    the same, then _exit(5): no exit handlers
 *   hv_record_signal_exit vfork N    the same, then a vfork child that _exits, then _exit(6)
 *   hv_record_signal_exit handler N  a SIGTERM handler of its own that re-raises (signal(SIG_DFL),
 *                                    raise: coreutils' way), then raise(SIGTERM)
 *   hv_record_signal_exit killself N the same, then kill(getpid(), SIGKILL) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void reraise(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  if (strcmp(argv[1], "handler") == 0) signal(SIGTERM, reraise);
  long n = atol(argv[2]);
  static void* kept[64];
  for (long i = 0; i < n; i++) {
    void* p = malloc(16 + (size_t)(i % 200) * 8);
    if (p) memset(p, 0, 16);
    free(kept[i % 64]);
    kept[i % 64] = p;
  }
  if (strcmp(argv[1], "_exit") == 0) _exit(5);
  if (strcmp(argv[1], "handler") == 0) raise(SIGTERM);
  if (strcmp(argv[1], "killself") == 0) kill(getpid(), SIGKILL);
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
