/* sessions.c - a small program with three heap bugs, for heapviz's checks (README, "Heap bugs";
 * scripts/screenshots records it with `heapviz record --checks` and HEAPVIZ_CHECKS_CONTINUE=1):
 *   1. a name copied one byte too long: a write past the request, into the block's slack;
 *   2. a session used after it was closed: a write into a freed block;
 *   3. a session closed twice: a double free.
 * Natively (glibc alone) only the third is caught, and only as "free(): double free detected". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
  char user[24];
  long hits;
  struct session* next;
};

static struct session* open_session(const char* user) {
  struct session* s = calloc(1, sizeof *s);
  strcpy(s->user, user);
  return s;
}

static char* copy_name(const char* user) {
  size_t n = strlen(user);
  char* name = malloc(n); /* the bug: no room for the terminating zero */
  memcpy(name, user, n + 1);
  return name;
}

static void close_session(struct session* s) {
  free(s);
}

static void touch(struct session* s) {
  s->hits++;
} /* after close: a write into freed memory */

int main(void) {
  struct session* all[16];
  char* names[16];
  for (int i = 0; i < 16; ++i) {
    char user[24];
    snprintf(user, sizeof user, "user-%02d", i);
    all[i] = open_session(user);
    names[i] = copy_name(user);
  }
  for (int i = 0; i < 16; i += 2)
    close_session(all[i]);
  touch(all[4]);
  for (int i = 0; i < 16; i += 3)
    free(names[i]);
  close_session(all[6]);
  printf("%d sessions\n", 16);
  return 0;
}
